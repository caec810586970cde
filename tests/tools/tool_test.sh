#!/bin/sh
# CTest driver for the interop-fd tool: tool_test.sh MODE TOOL SCRATCH_DIR
# Exit 0 pass, 1 fail, 77 skip (with the reason printed).
set -u
mode=$1 tool=$2 scratch=$3
rm -rf "$scratch" && mkdir -p "$scratch" || exit 1
log=$scratch/log
fail() { echo "FAIL: $*"; cat "$log" 2>/dev/null; exit 1; }

# Bad command lines: a usage message on stderr and exit status 2, never a crash.
usage_refused() {
  "$tool" "$@" >"$scratch/out" 2>"$log"
  rc=$?
  [ $rc -eq 2 ] || fail "'$*' exited $rc, expected 2"
  grep -q '^usage: interop-fd' "$log" || fail "'$*' printed no usage"
  echo "refused with usage: $* -> $(head -n 1 "$log")"
}

# "the other N frames read back for PNG files" counts the saved frames after
# the first: exactly $1, and with 0 (a window saves none) the phrase is absent.
# A window once printed 4294967295 there (0 - 1, unsigned).
check_png_count() {
  n=$(sed -n 's/.*the other \([0-9][0-9]*\) frames read back for PNG files.*/\1/p' "$log")
  if [ "$1" -eq 0 ]; then
    [ -z "$n" ] || fail "reports $n other frames read back for PNG files, expected none"
  else
    [ "$n" = "$1" ] || fail "reports '${n:-no}' other frames read back for PNG files, expected $1"
  fi
}

# Progress lines in a log (stdout is no terminal here) come at most every 5 s:
# lines matching $1 ending "<seconds> s", no more than the last one's
# seconds / 5, plus a final one.
check_no_flood() {
  lines=$(grep -c "$1" "$log")
  secs=$(grep "$1" "$log" | tail -n 1 | sed -n 's/.* \([0-9][0-9.]*\) s$/\1/p')
  max=$(awk -v s="${secs:-0}" 'BEGIN { print int(s / 5) + 1 }')
  [ "$lines" -le "$max" ] || fail "$lines progress lines ('$1') in ${secs:-?} s: at most one per 5 s"
  echo "progress lines: $lines in ${secs:-0} s"
}

case $mode in
usage)
  usage_refused
  usage_refused bogus
  usage_refused demo --bogus
  usage_refused demo --wait
  usage_refused demo --size 0x0
  usage_refused demo --size 640
  usage_refused demo --size 640x
  usage_refused demo --size 99999x10
  usage_refused demo --format rgb565
  usage_refused demo --format RGBA8
  usage_refused demo --format
  usage_refused demo --frames 0
  usage_refused demo --frames -5
  usage_refused demo --frames ten
  usage_refused demo --backend metal
  usage_refused demo --consumer dx12
  usage_refused demo --ring 9
  usage_refused demo --out /proc/interop-fd-cannot-be-here
  usage_refused demo --out /etc/passwd
  usage_refused demo --headless=yes
  usage_refused info --frames 3
  usage_refused selftest --size 64x64
  usage_refused bench --format r8
  usage_refused bench --paths zero-copy
  usage_refused bench --paths floor,
  usage_refused bench --modes fast
  usage_refused bench --handoff cpu
  usage_refused bench --break nothing
  usage_refused bench --consumer vk
  usage_refused demo --paths floor
  usage_refused demo --mode lifo
  usage_refused bench --mode both
  usage_refused demo --priority low
  usage_refused selftest --mode mailbox
  usage_refused view
  usage_refused view --connect
  usage_refused view --connect "$scratch/s.sock" --timeout 0
  usage_refused view --connect "$scratch/s.sock" --timeout soon
  usage_refused view --connect "$scratch/s.sock" --wait=yes
  usage_refused view --connect "$scratch/s.sock" --size 64x64
  usage_refused view --connect "$scratch/s.sock" --mode mailbox
  usage_refused view --connect "$scratch/s.sock" --frames 0
  usage_refused demo --serve
  usage_refused demo --serve "$scratch/s.sock" --out "$scratch/frames"
  usage_refused demo --serve "$scratch/s.sock" --consumer gl
  usage_refused demo --serve "$scratch/s.sock" --headless
  usage_refused demo --connect "$scratch/s.sock"
  usage_refused bench --serve "$scratch/s.sock"
  # Nothing serves there: view says so and exits 1 (not 2: the command line is right).
  "$tool" view --connect "$scratch/nobody.sock" --timeout 0.2 --out "$scratch/none" >"$scratch/out" 2>"$log"
  rc=$?
  [ $rc -eq 1 ] || fail "view of a socket nobody serves exited $rc, expected 1"
  grep -q "^interop-fd view: cannot connect to $scratch/nobody.sock: " "$log" || fail "view did not say it cannot connect"
  echo "refused: $(cat "$log")"
  "$tool" help >"$scratch/out" 2>&1 || fail "help exited non-zero"
  grep -q -- '--format' "$scratch/out" || fail "help does not list --format"
  grep -q -- '^       interop-fd view     --connect PATH' "$scratch/out" || fail "help does not list view"
  grep -q -- '^       interop-fd demo     --serve PATH' "$scratch/out" || fail "help does not list demo --serve"
  ;;
demo-vk | demo-gl)
  consumer=${mode#demo-}
  "$tool" demo --consumer "$consumer" --frames 12 --save 3 --size 96x64 --format rgba16f \
    --out "$scratch/frames" >"$log" 2>&1 || fail "demo exited non-zero"
  cat "$log"
  n=$(ls "$scratch/frames" | grep -c '^frame-0000[0-9][0-9]\.png$')
  [ "$n" -eq 3 ] || fail "expected 3 PNG files, found $n"
  grep -q "wrote 3 frames as PNG to $scratch/frames/" "$log" || fail "output folder not reported"
  grep -q 'frames/s; frame time p50' "$log" || fail "no frame rate or percentiles printed"
  check_png_count 2
  check_no_flood '^frame [0-9]'
  ;;
mailbox-vk | mailbox-gl)
  # The producer runs free on its thread; the consumer draws the newest frame.
  # Once the producer is done, the newest frame, the last one made, is drawn
  # and written (the first and the last frame drawn go to PNG files).
  consumer=${mode#mailbox-}
  "$tool" demo --mode mailbox --consumer "$consumer" --frames 12 --save 2 --size 96x64 \
    --out "$scratch/frames" >"$log" 2>&1 || fail "demo --mode mailbox exited non-zero"
  cat "$log"
  grep -q 'MAILBOX ring of 4 (the newest frame is drawn)' "$log" || fail "not a MAILBOX ring of 4"
  grep -q '^mailbox: the producer made 12 frames in ' "$log" || fail "the producer's count not printed"
  [ -f "$scratch/frames/frame-000012.png" ] || fail "the last frame made was not drawn last"
  n=$(ls "$scratch/frames" | grep -c '^frame-0000[0-9][0-9]\.png$')
  [ "$n" -eq 2 ] || fail "expected 2 PNG files (the first and the last frame drawn), found $n"
  ;;
window-vk | window-gl)
  command -v xvfb-run >/dev/null || { echo "SKIP: xvfb-run not installed (Debian package xvfb)"; exit 77; }
  consumer=${mode#window-}
  unset WAYLAND_DISPLAY
  xvfb-run -a -s "-screen 0 1024x768x24" "$tool" demo --consumer "$consumer" --frames 30 \
    >"$log" 2>&1 || fail "demo in a window exited non-zero"
  cat "$log"
  grep -q '^window:' "$log" || fail "the demo did not open a window"
  grep -q 'frames/s' "$log" || fail "no frame rate printed"
  check_png_count 0
  check_no_flood '^frame [0-9]'
  ;;
info)
  # Every question answered, for the backends found here (the CUDA ones say NO
  # where there is no NVIDIA driver).
  "$tool" info >"$log" 2>&1 || fail "info exited non-zero"
  cat "$log"
  grep -q '^== 2. Answers' "$log" || fail "info printed no answers"
  for pair in 'cuda   -> vk' 'cuda   -> gl' 'vulkan -> vk' 'vulkan -> gl'; do
    grep -q "^$pair : " "$log" || fail "info did not answer '$pair'"
  done
  ;;
selftest-vk)
  # The default length: 300 frames where the device is a CPU, 10000 on a GPU.
  "$tool" selftest --backend vulkan --consumer vk >"$log" 2>&1
  rc=$?
  cat "$log"
  [ $rc -eq 0 ] || fail "selftest exited $rc"
  if grep -q '^  animation: 300 frames (CPU device; 10000 on a GPU)$' "$log"; then n=300
  elif grep -q '^  animation: 10000 frames$' "$log"; then n=10000
  else fail "the animation's length and its reason were not printed"
  fi
  grep -q "^pass  animate $n frames" "$log" || fail "the animation check did not run $n frames"
  check_no_flood '^  animating '
  ;;
selftest-gl)
  "$tool" selftest --backend vulkan --consumer gl --frames 2000 >"$log" 2>&1
  rc=$?
  cat "$log"
  [ $rc -eq 0 ] || fail "selftest exited $rc"
  grep -q '^  animation: 2000 frames (--frames)$' "$log" || fail "--frames 2000 was not reported"
  grep -q '^pass  animate 2000 frames' "$log" || fail "the animation check did not run"
  check_no_flood '^  animating '
  ;;
selftest-gpu)
  "$tool" selftest --backend cuda --consumer vk --frames 1 >"$log" 2>&1
  if grep -q '^skip  producer  *cuda' "$log"; then
    echo "SKIP: no CUDA producer here: $(grep '^skip  producer  *cuda' "$log" | sed 's/  */ /g')"
    exit 77
  fi
  "$tool" selftest >"$log" 2>&1
  rc=$?
  cat "$log"
  [ $rc -eq 0 ] || fail "selftest exited $rc"
  grep -q '^pass  cuda and vulkan agree' "$log" || fail "the backends' frames were not compared"
  ;;
bench-gpu)
  # Every path in both modes on a small frame; then one path's frames
  # deliberately wrong, which the benchmark must refuse to report.
  "$tool" bench --size 640x360 --format rgba8 --frames 300 --out "$scratch/ok" >"$log" 2>&1
  rc=$?
  cat "$log"
  if [ $rc -eq 77 ]; then echo "SKIP: $(grep 'bench needs' "$log" | head -n 1)"; exit 77; fi
  [ $rc -eq 0 ] || fail "bench exited $rc"
  json=$scratch/ok/bench.json
  [ -s "$scratch/ok/bench.svg" ] || fail "no chart written"
  for p in zero-copy-copy zero-copy-direct cpu-roundtrip cuda-gl-interop floor; do
    for m in throughput latency; do
      grep -q "{\"path\": \"$p\", \"mode\": \"$m\", \"width\": 640, \"height\": 360, \"format\": \"rgba8\", .*\"fps\": [0-9].*\"latency_us_p50\": [0-9].*\"latency_us_p99\": [0-9]" "$json" \
        || fail "bench.json has no measured run for $p $m"
    done
  done
  "$tool" bench --size 640x360 --format rgba8 --frames 100 --paths zero-copy-copy,floor \
    --break zero-copy-copy --out "$scratch/broken" >"$log" 2>&1
  rc=$?
  cat "$log"
  [ $rc -eq 1 ] || fail "bench with wrong frames exited $rc, expected 1"
  json=$scratch/broken/bench.json
  grep -q '"path": "zero-copy-copy".*"fps"' "$json" && fail "wrong frames were reported"
  grep -q '"path": "zero-copy-copy".*"status": "refused"' "$json" || fail "the refusal is not in bench.json"
  grep -q '"path": "floor", "mode": "throughput".*"fps": [0-9]' "$json" || fail "the good path was not reported"
  grep -q 'REFUSED: 100 of 100 frames wrong' "$log" || fail "the refusal was not printed"
  ;;
*)
  echo "unknown mode $mode"
  exit 1
  ;;
esac
echo PASS
