#!/bin/sh
# Regenerates the checked-in PTX of the GPU tests' kernels (needs nvcc; the tests themselves do not).
set -eu
cd "$(dirname "$0")/.."
"${NVCC:-/usr/local/cuda/bin/nvcc}" -ptx -arch=compute_75 -o tests/cuda/test_kernels.ptx tests/cuda/test_kernels.cu
