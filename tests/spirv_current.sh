#!/bin/sh
# Whether a checked-in SPIR-V file is what its GLSL source compiles to:
#   spirv_current.sh <glslangValidator> <source.comp> <checked-in.spv>
# The library embeds the .spv so that it builds without a shader compiler; this
# catches a source edited without rebuilding it. SPIR-V output differs between
# glslang releases, so the comparison runs only with the release that made the
# checked-in file (named in <checked-in.spv>.version) and skips otherwise.
set -u
glslang=$1 src=$2 spv=$3
made_by=$(cat "$spv.version")
here=$("$glslang" --version | head -n 1)
if [ "$here" != "$made_by" ]; then
  echo "SKIP: $spv was made by \"$made_by\", this machine has \"$here\": outputs differ between releases"
  exit 77
fi
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
"$glslang" -V --target-env vulkan1.2 -o "$out" "$src" > /dev/null || exit 1
if ! cmp -s "$out" "$spv"; then
  echo "FAIL: $spv is not what $src compiles to; rebuild it with:"
  echo "  $glslang -V --target-env vulkan1.2 -o $spv $src"
  exit 1
fi
echo "PASS: $spv is current"
