#!/usr/bin/env bash
# Sets up the pip LibTorch: a virtual environment with the packages pinned in
# scripts/requirements-pip-torch.txt (torch 2.15.0, a CUDA 13.2 build, and NVIDIA's pip packages
# of the CUDA libraries and nvcc), kept between runs in the machine's cache folder
# ($HARNESS_CACHE_DIR, default ~/.cache/harness) so a second run downloads nothing.
# Prints LibTorch's CMake prefix (for -DCMAKE_PREFIX_PATH) on its last line. Idempotent.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
lock="$root/scripts/requirements-pip-torch.txt"
cache=${HARNESS_CACHE_DIR:-$HOME/.cache/harness}
torch_pin=$(grep -E '^torch==' "$lock")
venv="$cache/venv-${torch_pin#torch==}-$(sha1sum "$lock" | cut -c1-8)"

python=${HARNESS_PYTHON:-python3}
if ! "$python" -m venv --help >/dev/null 2>&1; then
  echo "setup_pip_torch: $python has no venv module; installing python3-venv" >&2
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends python3-venv >&2
fi

if [[ ! -f "$venv/.complete" ]]; then
  echo "setup_pip_torch: installing $torch_pin and its CUDA packages into $venv (about 5 GB)" >&2
  rm -rf "$venv"
  mkdir -p "$cache"
  "$python" -m venv "$venv"
  # --no-deps: exactly the pinned list; pip's own cache keeps the downloads for the next venv.
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$lock" >&2
  touch "$venv/.complete"
fi
prefix=$(echo "$venv"/lib/python3*/site-packages/torch/share/cmake)
[[ -f $prefix/Torch/TorchConfig.cmake ]] || { echo "setup_pip_torch: no TorchConfig.cmake under $prefix" >&2; exit 1; }
echo "$prefix"
