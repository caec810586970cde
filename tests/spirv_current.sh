#!/bin/sh
# Whether the library's checked-in SPIR-V is what its GLSL source compiles to:
#   spirv_current.sh <glslangValidator> <shaders folder> <format>...
# For each format F, <folder>/copy_F.spv must be <folder>/copy.comp compiled
# with -DFORMAT=F. The library embeds the .spv files so that it builds without
# a shader compiler; this catches a source edited without rebuilding them.
# SPIR-V differs between glslang releases, so the comparison runs only with
# the release that made the files (named in <folder>/glslang.version) and
# skips otherwise.
set -u
glslang=$1 dir=$2
shift 2
made_by=$(cat "$dir/glslang.version")
here=$("$glslang" --version | head -n 1)
if [ "$here" != "$made_by" ]; then
  echo "SKIP: the SPIR-V in $dir was made by \"$made_by\", this machine has \"$here\":"
  echo "outputs differ between releases"
  exit 77
fi
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
status=0
for f in "$@"; do
  "$glslang" -V --target-env vulkan1.2 "-DFORMAT=$f" -o "$out" "$dir/copy.comp" > /dev/null || exit 1
  if cmp -s "$out" "$dir/copy_$f.spv"; then
    echo "PASS: copy_$f.spv is current"
  else
    echo "FAIL: $dir/copy_$f.spv is not what copy.comp compiles to; rebuild it with:"
    echo "  $glslang -V --target-env vulkan1.2 -DFORMAT=$f -o $dir/copy_$f.spv $dir/copy.comp"
    status=1
  fi
done
exit $status
