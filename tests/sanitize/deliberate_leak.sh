#!/bin/sh
# deliberate_leak.sh PROGRAM: runs test_deliberate_leak, which loads the
# drivers and then leaks LEAK_SIZE bytes from ifd_deliberately_leaked_block.
# Passes only if LeakSanitizer reported that leak and nothing else: a non-zero
# exit, the function's name in the report, and a summary of exactly one
# allocation of that size. A suppression that matches our own code (`leak:*`,
# the function's name, this file's name) makes it fail.
set -u
out=$("$1" 2>&1)
rc=$?
printf '%s\n' "$out"
fail() {
  echo "deliberate_leak.sh: FAIL: $*"
  exit 1
}
printf '%s\n' "$out" | grep -q 'deliberate_leak: leaked 4321 bytes' ||
  fail "the program did not reach its deliberate leak (exit code $rc)"
[ "$rc" -ne 0 ] || fail "exit code 0: LeakSanitizer did not report the deliberate leak (suppressed?)"
printf '%s\n' "$out" | grep -q 'ERROR: LeakSanitizer: detected memory leaks' ||
  fail "exit code $rc but no LeakSanitizer report"
printf '%s\n' "$out" | grep -q 'in ifd_deliberately_leaked_block' ||
  fail "the report does not name ifd_deliberately_leaked_block"
printf '%s\n' "$out" | grep -q 'SUMMARY: AddressSanitizer: 4321 byte(s) leaked in 1 allocation(s)' ||
  fail "the report is not exactly the deliberate leak (a driver leak was not suppressed?)"
echo "deliberate_leak.sh: PASS: LeakSanitizer reported exactly the deliberate leak"
