#!/bin/sh
# Installs the built interop_fd into a fresh prefix (cmake --install) and
# builds and runs a small consumer against it twice: with pkg-config and with
# find_package. Run by CTest (install_package):
#   test_install.sh <build dir> <work dir> <cc> <pkg-config> <cmake generator> <extra C flags>
set -eu
build=$1 work=$2 cc=$3 pkgconfig=$4 generator=$5 cflags=${6:-}
src=$(cd "$(dirname "$0")" && pwd)
prefix=$work/prefix
rm -rf "$work" && mkdir -p "$work"
cmake --install "$build" --prefix "$prefix" >"$work/install.log"
libdir=$(dirname "$(find "$prefix" -name 'libinterop_fd.so' | head -n 1)")
[ -d "$libdir" ] || { echo "FAIL: no libinterop_fd.so under $prefix"; exit 1; }

echo "== pkg-config"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
# The .pc names the prefix it was configured for; --define-variable points it
# at this one (a build configured with -DCMAKE_INSTALL_PREFIX=<prefix> needs none).
pc="$pkgconfig --define-variable=prefix=$prefix"
if ! $pkgconfig --print-requires-private interop_fd | grep -qx vulkan; then
  echo "FAIL: interop_fd.pc does not require vulkan (vulkan.h includes <vulkan/vulkan.h>)"
  exit 1
fi
# shellcheck disable=SC2046,SC2086
$cc $cflags -std=c11 -Wall -Werror "$src/consumer.c" -o "$work/consumer_pc" \
  $($pc --cflags --libs interop_fd) -Wl,-rpath,"$libdir"
"$work/consumer_pc"

echo "== find_package"
cmake -S "$src" -B "$work/cmake-build" -G "$generator" -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_FLAGS="$cflags" >"$work/cmake.log" ||
  { cat "$work/cmake.log"; exit 1; }
cmake --build "$work/cmake-build" >"$work/build.log" || { cat "$work/build.log"; exit 1; }
"$work/cmake-build/consumer" # CMake's build rpath points at $libdir
echo "install_package: both consumers built and ran"
