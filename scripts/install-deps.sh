#!/bin/sh
# Installs, from Debian's packages, what building and testing interop_fd
# needs and this machine lacks. Run as root (or with sudo available).
# The Python package's tests need NumPy and pytest; venv, setuptools and
# wheel let them check `pip install --no-build-isolation ./python` offline;
# moderngl gives the consumer tests a GL context (standalone EGL).
# clang-14 and libclang-rt-14-dev build the fuzz target (tests/fuzz): the
# latter holds libFuzzer and clang's sanitizer runtimes, and clang only
# recommends it, which --no-install-recommends would skip.
set -eu
pkgs="cmake ninja-build gcc libc6-dev pkg-config binutils
      libvulkan-dev mesa-vulkan-drivers vulkan-validationlayers
      libegl-dev libgl-dev libepoxy-dev libegl-mesa0 libgl1-mesa-dri
      glslang-tools libpng-dev libglfw3-dev xvfb xauth
      python3 python3-numpy python3-pytest python3-venv python3-setuptools python3-wheel
      python3-moderngl python3-opengl
      clang-14 libclang-rt-14-dev"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "interop_fd: installing$missing"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing >/dev/null
