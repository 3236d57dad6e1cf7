#!/usr/bin/env bash
# Run ON THE GPU MACHINE, from the repository root, after scripts/gpu/prepare.sh here (carry
# .gpu-deps): builds the harness against that machine's PyTorch (its LibTorch, CUDA, C++20) with
# the carried Debian packages, then runs the `gpu` test label (a deterministic GPU trial twice:
# identical rows; the same trial on CPU and GPU: agreement within the tolerances stated in
# tests/gpu/gpu_trial_test.cpp; the main job end to end on the GPU) and prints the median step
# time on GPU against CPU. Sized for 8 minutes on 16 cores. Results land in $OUT when set.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
deps="$root/.gpu-deps"
out=${OUT:-$root/results/gpu}
mkdir -p "$out"
start=$(date +%s)
[[ -d $deps/debs ]] || { echo "check.sh: $deps/debs is missing: run scripts/gpu/prepare.sh first and carry .gpu-deps" >&2; exit 1; }
nvidia-smi -L || true

# Unpack the .deb files without dpkg (an .deb is an ar archive holding data.tar.*).
sysroot="$deps/root"
rm -rf "$sysroot"
mkdir -p "$sysroot"
python3 - "$deps/debs" "$sysroot" <<'PY'
import io, os, sys, tarfile
debs, dest = sys.argv[1], sys.argv[2]
for name in sorted(os.listdir(debs)):
    with open(os.path.join(debs, name), "rb") as f:
        assert f.read(8) == b"!<arch>\n", name
        while True:
            header = f.read(60)
            if len(header) < 60:
                break
            member, size = header[:16].decode().strip().rstrip("/"), int(header[48:58].decode())
            body = f.read(size)
            if size % 2:
                f.read(1)
            if member.startswith("data.tar"):
                with tarfile.open(fileobj=io.BytesIO(body)) as tar:
                    tar.extractall(dest)
PY
mkdir -p "$root/data"
tar -xzf "$deps/data/mnist-digits.tar.gz" -C "$root/data"

python=${HARNESS_PYTHON:-python3}
torch_prefix=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null | tail -n 1)
echo "torch: $("$python" -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda)' 2>/dev/null | tail -n 1)"
usr="$sysroot/usr"
multiarch="$usr/lib/x86_64-linux-gnu"
export LD_LIBRARY_PATH="$multiarch${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
build="$root/build-gpu"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$usr;$multiarch/cmake;$usr/share/cmake" \
  -DCMAKE_LIBRARY_PATH="$multiarch" -DCMAKE_INCLUDE_PATH="$usr/include" \
  -DBoost_DIR="$multiarch/cmake/Boost-1.74.0" -DBoost_NO_SYSTEM_PATHS=ON \
  -DGTest_DIR="$multiarch/cmake/GTest" -DHARNESS_BUILD_BENCH=OFF
echo "configured in $(( $(date +%s) - start )) s"
cmake --build "$build" -j "$(nproc)" --target harness all_strategies gpu_tests
echo "built in $(( $(date +%s) - start )) s"

cd "$build"
status=0
HARNESS_GPU_OUT="$out" HARNESS_FASHION_MNIST_DIR="$deps/data" \
  ctest --output-on-failure -V -L gpu --timeout 420 2>&1 | tee "$out/gpu-tests.log" || status=$?
grep -h "^\[gpu\]" "$out/gpu-tests.log" || true
echo "gpu check finished in $(( $(date +%s) - start )) s, status $status"
exit $status
