#!/bin/sh
# Sets up what is missing, builds interop_fd and runs its demo (arguments are
# passed on to `interop-fd demo`). Where setting up or building cannot be done
# (e.g. a GPU server with no network and no Vulkan headers) but a build made
# elsewhere is present in build/, that build runs, after saying so.
set -u
cd "$(dirname "$0")/.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
if sh scripts/install-deps.sh &&
   cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
   cmake --build build; then
  :
elif [ -x build/tools/interop-fd ]; then
  echo "interop_fd: could not set up or build here (see above); running the existing build/tools/interop-fd"
else
  echo "interop_fd: setting up or building failed (see above)" >&2
  exit 1
fi
exec build/tools/interop-fd demo "$@"
