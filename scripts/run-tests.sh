#!/bin/sh
# Sets up what is missing, builds interop_fd twice (plain, and with
# AddressSanitizer + UndefinedBehaviorSanitizer) with warnings as errors, and
# runs the whole CTest suite in both, then the ASan build's CPU tests under two
# llvmpipe variants (vector width and threads), the wire parser's fuzz target
# for 60 seconds (clang, libFuzzer), and the Python package's pytest suite
# against the release build. GPU tests skip themselves, with the reason,
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
# The wire parser's fuzz target (tests/fuzz/fuzz_wire.c: libFuzzer, ASan,
# UBSan, a round-trip oracle) for a bounded 60 seconds on a copy of its seed
# corpus (libFuzzer adds what it finds to that folder). Only that target is
# built. A crash, or any other failure of the run, fails the script and
# names the input that caused it.
echo "== fuzz_wire (libFuzzer, 60 s)"
fz=build-ci-fuzz
fz_start=$(date +%s)
fz_cc=$(command -v clang-14 || command -v clang || echo clang)
if CC="$fz_cc" cmake -S . -B $fz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIFD_WERROR=ON \
     -DIFD_FUZZ=ON -DIFD_BUILD_TOOLS=OFF -DIFD_BUILD_TESTS=OFF -DIFD_BUILD_EXAMPLES=OFF >/dev/null &&
   cmake --build $fz --target fuzz_wire; then
  rm -rf $fz/corpus $fz/artifacts
  mkdir -p $fz/corpus $fz/artifacts
  cp tests/fuzz/corpus/* $fz/corpus/
  fz_rc=0
  $fz/tests/fuzz/fuzz_wire -max_total_time=60 -max_len=512 -artifact_prefix=$fz/artifacts/ \
    $fz/corpus >$fz/fuzz.log 2>&1 || fz_rc=$?
  runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' $fz/fuzz.log | tail -n 1)
  crashes=$(find $fz/artifacts -type f | wc -l)
  if [ "$fz_rc" -eq 0 ] && [ "$crashes" -eq 0 ] && [ -n "$runs" ]; then
    echo "fuzz_wire: $runs executions, 0 crashes"
  else
    tail -n 30 $fz/fuzz.log
    echo "fuzz_wire: FAILED (exit $fz_rc, $crashes crashing input(s)); log: $fz/fuzz.log"
    find $fz/artifacts -type f -exec echo "fuzz_wire: crashing input: {}" \;
    status=1
  fi
else
  echo "fuzz_wire: FAILED to configure or build (clang: $fz_cc)"
  status=1
fi
echo "fuzz_wire: step took $(( $(date +%s) - fz_start )) s"
# The Python package (python/) against the release build's library, with the
# first of python3 (on PATH: where torch and cupy may be) and Debian's
# /usr/bin/python3 that has NumPy and pytest; PYTHON overrides. pytest prints
# its summary; its failure fails the script. A test that hangs prints every
# thread's Python traceback after 120 s (faulthandler_timeout).
py="${PYTHON:-}"
for c in python3 /usr/bin/python3; do
  [ -z "$py" ] && "$c" -c "import numpy, pytest" 2>/dev/null && py="$c"
done
py="${py:-/usr/bin/python3}"   # without NumPy/pytest its error says what is missing
echo "== python tests (pytest, $py, build-ci-release/libinterop_fd.so)"
IFD_LIBRARY="$PWD/build-ci-release/libinterop_fd.so" IFD_BUILD_DIR="$PWD/build-ci-release" \
  "$py" -m pytest -q -rs -p no:cacheprovider -o faulthandler_timeout=120 python/tests || status=1
exit $status
