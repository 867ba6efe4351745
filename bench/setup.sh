#!/usr/bin/env bash
# One-time set-up of the benchmark baselines (run as root, or with sudo for apt-get).
# Nothing here is installed by the package's own `npm install`.
#   - Debian's PyTorch for /usr/bin/python3, with the pthread OpenBLAS (without
#     libopenblas0-pthread, Debian's torch runs on the slow reference BLAS);
#     python3-threadpoolctl only to report which BLAS each baseline loaded.
#   - NumPy is the one of the default `python3` (pyenv here); it is not installed by this script.
#   - TensorFlow.js (pure-JS CPU and wasm backends) into bench/node_modules.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends python3-torch libopenblas0-pthread python3-threadpoolctl
npm install --prefix "$here" --no-audit --no-fund
# The addon and the compiled lib/ the benchmarks load.
cd "$here/.."
[ -f build/Release/deepr.node ] || npx cmake-js build
[ -f dist/native.js ] || npm run build
echo "bench set-up done:"
/usr/bin/python3 -c "import torch; print('  torch', torch.__version__, 'for', __import__('sys').executable)"
python3 -c "import numpy, sys; print('  numpy', numpy.__version__, 'for', sys.executable)" || echo "  numpy missing for python3: the NumPy baseline will be skipped"
