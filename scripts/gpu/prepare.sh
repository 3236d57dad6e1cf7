#!/usr/bin/env bash
# Run HERE (a Debian 12 machine with the registries) before a GPU check: puts into .gpu-deps/
# (git-ignored; the device tool carries it: carry [".gpu-deps"]) what the GPU machine lacks,
# about 50 MB in all: the Debian packages the build needs (Boost, SQLite, GoogleTest,
# nlohmann-json, zlib headers, gnuplot-iostream, libpng and libjpeg-turbo), as .deb files unpacked there by
# scripts/gpu/check.sh, and the data of the main job (Fashion-MNIST as shipped, the MNIST
# digits as one .tar.gz).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
deps="$root/.gpu-deps"
"$root/scripts/setup.sh"
rm -rf "$deps"
mkdir -p "$deps/debs" "$deps/data"
packages=(
  libboost1.74-dev libboost-program-options1.74-dev libboost-program-options1.74.0
  libboost-filesystem1.74-dev libboost-filesystem1.74.0 libboost-iostreams1.74-dev libboost-iostreams1.74.0
  libsqlite3-dev libsqlite3-0 libgtest-dev libgmock-dev nlohmann-json3-dev zlib1g-dev libgnuplot-iostream-dev
  libpng-dev libpng16-16 libjpeg62-turbo-dev libjpeg62-turbo
)
(cd "$deps/debs" && apt-get download "${packages[@]}")
cp /usr/share/datasets/fashion-mnist/*-ubyte.gz "$deps/data/"
tar -czf "$deps/data/mnist-digits.tar.gz" -C "$root/data" mnist-digits
du -sh "$deps"
