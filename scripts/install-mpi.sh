#!/usr/bin/env bash
# Open MPI from Debian (openmpi-bin: mpirun; libopenmpi-dev: the unversioned libmpi.so), for the
# data-parallel training tests (test/distributed-mpi.test.ts). deepr itself never links against MPI:
# it loads libmpi at run time, so this is needed only to train with `distributed: "mpi"`.
# Idempotent: quiet when mpirun and libmpi are already there (grep without -q reads all of
# ldconfig's list, so that pipefail never sees it killed by SIGPIPE).
set -euo pipefail

if command -v mpirun >/dev/null 2>&1 && ldconfig -p | grep 'libmpi\.so\.40' >/dev/null; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-mpi: run as root (or: sudo apt-get install openmpi-bin libopenmpi-dev)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends openmpi-bin libopenmpi-dev >/dev/null
echo "install-mpi: $(mpirun --version 2>&1 | head -n 1)"
