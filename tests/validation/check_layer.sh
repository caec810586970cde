#!/bin/sh
# check_layer.sh SHIM INVALID_CALLS_PROGRAM: proves that run_validated.sh really
# loads the validation layer and fails on what it reports. For each mode of
# tests/validation/invalid_calls.c: the program alone must pass, the same
# program under run_validated.sh must fail and name the expected message.
# Exit 0 pass, 1 fail, 77 skip (no Vulkan device).
set -u
shim=$1 prog=$2
here=$(dirname "$0")
for case in usage:VUID-VkImageCreateInfo-usage-requiredbitmask \
            hazard:SYNC-HAZARD-WRITE-AFTER-WRITE; do
  mode=${case%%:*} id=${case#*:}
  out=$("$prog" "$mode" 2>&1)
  rc=$?
  [ $rc -eq 77 ] && { echo "$out"; exit 77; }
  [ $rc -eq 0 ] || { echo "$out"; echo "FAIL: '$mode' without the layer exited $rc, expected 0"; exit 1; }
  out=$(sh "$here/run_validated.sh" "$shim" "$prog" "$mode" 2>&1)
  rc=$?
  echo "$out"
  [ $rc -eq 1 ] || { echo "FAIL: '$mode' under the layer exited $rc, expected 1"; exit 1; }
  echo "$out" | grep -q "^ *1 $id(ERROR / SPEC)\$" ||
    { echo "FAIL: '$mode' under the layer: $id was not reported once as an error"; exit 1; }
  echo "ok: '$mode' passes alone and fails under the layer with $id"
done
echo PASS
