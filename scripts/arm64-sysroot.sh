#!/usr/bin/env bash
# Unpacks Debian's arm64 Node.js and the libraries it needs into DIR, for running the arm64
# prebuild under qemu-user (test/prebuild-arm64.test.ts): `qemu-aarch64 -L DIR DIR/usr/bin/node`.
# Apt works on private copies of its lists and cache under DIR, so the system's apt configuration
# and installed packages are left as they are. Needs Debian's apt sources (bookworm: Node 18).
set -euo pipefail
dir=${1:?usage: scripts/arm64-sysroot.sh DIR}
mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial" "$dir/debs"
touch "$dir/apt/status"
apt=(-o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o "Dir::State::Lists=$dir/apt/lists"
     -o "Dir::Cache=$dir/apt/cache" -o "Dir::State::status=$dir/apt/status")
apt-get "${apt[@]}" update
# nodejs and libnode's dependencies (apt-cache depends nodejs libnode108), named because apt's
# resolver would skip what the host (another architecture) already has.
cd "$dir/debs"
apt-get "${apt[@]}" download nodejs libnode108 libc6 libuv1 libssl3 libicu72 libbrotli1 libc-ares2 \
  libnghttp2-14 zlib1g libstdc++6 libgcc-s1 node-acorn node-cjs-module-lexer node-undici
for deb in *.deb; do dpkg-deb -x "$deb" "$dir"; done
QEMU_LD_PREFIX="$dir" qemu-aarch64 "$dir/usr/bin/node" -p '`Node ${process.version} on ${process.arch}`'
