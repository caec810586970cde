#!/bin/sh
# Sets up what is missing, builds interop_fd twice (plain, and with
# AddressSanitizer + UndefinedBehaviorSanitizer) with warnings as errors, and
# runs the whole CTest suite in both, then the ASan build's CPU tests under two
# llvmpipe variants (vector width and threads), and the Python package's pytest
# suite against the release build. GPU tests skip themselves, with the reason,
# where no GPU is present.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
status=0
for variant in release asan; do
  dir="build-ci-$variant"
  flags="-DCMAKE_BUILD_TYPE=RelWithDebInfo -DIFD_WERROR=ON"
  [ "$variant" = asan ] && flags="-DCMAKE_BUILD_TYPE=Debug -DIFD_WERROR=ON -DIFD_SANITIZE=ON"
  echo "== $variant build"
  # shellcheck disable=SC2086
  cmake -S . -B "$dir" -G Ninja $flags >/dev/null
  cmake --build "$dir"
  echo "== $variant tests"
  ctest --test-dir "$dir" --output-on-failure || status=1
done
# The ASan build's CPU tests again with llvmpipe/lavapipe forced onto other
# code paths (vector width, threads): leak checks must not depend on the code
# LLVM generates for this CPU (docs/testing.md).
for lp in "LP_NATIVE_VECTOR_WIDTH=128 LP_NUM_THREADS=1" "LP_NATIVE_VECTOR_WIDTH=256 LP_NUM_THREADS=2"; do
  echo "== asan tests, label cpu, with $lp"
  # shellcheck disable=SC2086
  env $lp ctest --test-dir build-ci-asan -L cpu -j2 --output-on-failure || status=1
done
# The Python package (python/) against the release build's library, with the
# first of python3 (on PATH: where torch and cupy may be) and Debian's
# /usr/bin/python3 that has NumPy and pytest; PYTHON overrides. pytest prints
# its summary; its failure fails the script.
py="${PYTHON:-}"
for c in python3 /usr/bin/python3; do
  [ -z "$py" ] && "$c" -c "import numpy, pytest" 2>/dev/null && py="$c"
done
py="${py:-/usr/bin/python3}"   # without NumPy/pytest its error says what is missing
echo "== python tests (pytest, $py, build-ci-release/libinterop_fd.so)"
IFD_LIBRARY="$PWD/build-ci-release/libinterop_fd.so" IFD_BUILD_DIR="$PWD/build-ci-release" \
  "$py" -m pytest -q -rs -p no:cacheprovider python/tests || status=1
exit $status
