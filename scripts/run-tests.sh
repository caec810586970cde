#!/bin/sh
# Sets up what is missing, builds interop_fd twice (plain, and with
# AddressSanitizer + UndefinedBehaviorSanitizer) with warnings as errors, and
# runs the whole CTest suite in both. GPU tests skip themselves, with the
# reason, where no GPU is present.
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
exit $status
