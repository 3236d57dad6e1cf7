#!/usr/bin/env bash
# The second CI leg: the same build and test suite against the pip torch wheel's LibTorch
# (2.15, a CUDA build, C++20) instead of Debian's (1.13, CPU). The tests run on the CPU.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${HARNESS_PIP_BUILD_DIR:-$root/build-pip}
"$root/scripts/setup.sh"
prefix=$("$root/scripts/setup_pip_torch.sh" | tail -n 1)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix"
cmake --build "$build" -j "$(nproc)"
cd "$build"
ctest --output-on-failure -j "$(nproc)" -LE "slow|gpu" "$@"
