#!/bin/sh
# Regenerates the checked-in PTX of the interop-fd tool's kernels, the demo's
# producer and the benchmark's (needs nvcc; building and running the tool do
# not). -fmad=false keeps every multiply and add of the demo's network
# separately rounded, as in the C reference (tools/producer/cppn.c).
set -eu
cd "$(dirname "$0")/.."
"${NVCC:-/usr/local/cuda/bin/nvcc}" -ptx -arch=compute_75 -fmad=false -o tools/producer/cuda/cppn.ptx tools/producer/cuda/cppn.cu
"${NVCC:-/usr/local/cuda/bin/nvcc}" -ptx -arch=compute_75 -o tools/bench/cuda/bench.ptx tools/bench/cuda/bench.cu
