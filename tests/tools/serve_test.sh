#!/bin/sh
# CTest driver for the tool across processes: serve_test.sh MODE TOOL FRAME_CHECK SCRATCH_DIR
# `interop-fd demo --serve` (the producer) and `interop-fd view` (the viewer)
# run as two processes; the viewer's PNG files are checked pixel by pixel
# against the network's C reference of their frame numbers (frame_check.c).
# Exit 0 pass, 1 fail, 77 skip (with the reason printed).
set -u
mode=$1 tool=$2 check=$3 scratch=$4
rm -rf "$scratch" && mkdir -p "$scratch" || exit 1
size=96x64
backend=vulkan
tol=1
sock=$scratch/s.sock
# A socket address holds 107 bytes: a deep build folder gets a short name instead.
if [ ${#sock} -gt 100 ]; then sock=$(mktemp -u /tmp/ifd-serve-XXXXXX.sock); fi

pids=""
cleanup() {
  for p in $pids; do kill -9 "$p" 2>/dev/null; done
  rm -f "$sock"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*"
  for f in "$scratch"/*.log; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done
  exit 1
}

# wait_until SECONDS WHAT COMMAND...: until COMMAND succeeds (tried every
# 0.1 s), or fails the test saying WHAT did not happen in time.
wait_until() {
  secs=$1 what=$2
  shift 2
  n=0
  until "$@"; do
    n=$((n + 1))
    [ $n -le $((secs * 10)) ] || fail "$what after $secs s"
    sleep 0.1
  done
}
lines_at_least() { [ "$(grep -c "$2" "$1" 2>/dev/null)" -ge "$3" ]; } # FILE PATTERN COUNT
pngs_at_least() { [ "$(ls "$1" 2>/dev/null | grep -c '\.png$')" -ge "$2" ]; } # DIR COUNT
not_running() { ! kill -0 "$1" 2>/dev/null; }                                # PID

# wait_for FILE PATTERN SECONDS; wait_count FILE PATTERN COUNT SECONDS;
# wait_pngs DIR COUNT SECONDS: until FILE has a line (COUNT lines) matching
# PATTERN, or DIR holds COUNT PNG files or more.
wait_for() { wait_until "$3" "no '$2' in $1" lines_at_least "$1" "$2" 1; }
wait_count() { wait_until "$4" "fewer than $3 lines '$2' in $1" lines_at_least "$1" "$2" "$3"; }
wait_pngs() { wait_until "$3" "fewer than $2 PNG files in $1" pngs_at_least "$1" "$2"; }

# wait_exit PID SECONDS: waits for a background process; its status in $status.
wait_exit() {
  wait_until "$2" "process $1 still runs" not_running "$1"
  wait "$1"
  status=$?
}

# start_producer LOG ARGS...: demo --serve in the background; its pid in $producer.
start_producer() {
  plog=$1
  shift
  "$tool" demo --serve "$sock" --backend "$backend" --size "$size" "$@" >"$plog" 2>&1 &
  producer=$!
  pids="$pids $producer"
}

# check_frames DIR [N]: every PNG file in DIR (or its first N and last N)
# is the frame its name says.
check_frames() {
  if [ $# -gt 1 ]; then
    set -- $(ls "$1"/*.png | head -n "$2") $(ls "$1"/*.png | tail -n "$2")
  else
    set -- "$1"/*.png
  fi
  "$check" --tol "$tol" "$@" >"$scratch/check.log" 2>&1 || fail "pixels: $(grep FAIL "$scratch/check.log" | head -n 3)"
  cat "$scratch/check.log"
}

# The numbers k of frame-<k>.png in DIR, in order, one a line.
frame_numbers() { ls "$1" | sed -n 's/^frame-0*\([0-9][0-9]*\)\.png$/\1/p' | sort -n; }

# One producer, one viewer of consumer $1 in ring mode $2 (fifo|mailbox):
# five frames, each the frame its number says; FIFO frames are consecutive.
view_five() {
  consumer=$1 ringmode=$2 dir=$scratch/$1-$2
  start_producer "$scratch/producer-$1-$2.log" --mode "$ringmode"
  "$tool" view --connect "$sock" --consumer "$consumer" --out "$dir" --frames 5 --timeout 30 \
    >"$scratch/view-$1-$2.log" 2>&1
  rc=$?
  cat "$scratch/view-$1-$2.log"
  [ $rc -eq 0 ] || fail "view ($consumer, $ringmode) exited $rc"
  mode_name=$(echo "$ringmode" | tr a-z A-Z)
  grep -q "^connected: $sock (connection 1): $size rgba8, $mode_name ring of" "$scratch/view-$1-$2.log" \
    || fail "view did not report a $mode_name ring of $size"
  n=$(frame_numbers "$dir" | wc -l)
  [ "$n" -eq 5 ] || fail "expected 5 PNG files (5 different frames), found $n"
  if [ "$ringmode" = fifo ]; then
    first=$(frame_numbers "$dir" | head -n 1)
    last=$(frame_numbers "$dir" | tail -n 1)
    [ $((last - first)) -eq 4 ] || fail "FIFO frames not consecutive: $(frame_numbers "$dir" | tr '\n' ' ')"
  fi
  check_frames "$dir"
  kill -TERM "$producer"
  wait_exit "$producer" 30
  cat "$scratch/producer-$1-$2.log"
  [ $status -eq 0 ] || fail "the producer exited $status after SIGTERM, expected 0"
  grep -q "^serving:  $sock " "$scratch/producer-$1-$2.log" || fail "the producer did not print its socket"
  grep -q '^served [0-9]* frames in .*viewers 1, refused 0, dropped 0' "$scratch/producer-$1-$2.log" \
    || fail "the producer's summary does not say it served one viewer"
  [ -e "$sock" ] && fail "the socket file is left after the producer ended"
  echo "ok: $consumer viewer of a $ringmode ring"
}

# The producer ends (--frames 200) while a viewer of consumer $1 draws ring
# mode $2: the viewer says so and exits 0 without --frames; with more frames
# asked than it got it exits 1 and says how many it drew. Bounded by
# `timeout`, so a viewer stuck on a frame that never comes fails the test.
view_to_the_end() {
  consumer=$1 ringmode=$2 dir=$scratch/end-$1-$2 vlog=$scratch/view-end-$1-$2.log
  for want in "" 100000; do
    timeout 60 "$tool" view --connect "$sock" --consumer "$consumer" --out "$dir" \
      ${want:+--frames $want} --timeout 30 >"$vlog" 2>&1 &
    viewer=$!
    pids="$pids $viewer"
    # --wait: the first frame once the viewer is attached (a GPU producer
    # would end 200 frames before the viewer connects)
    start_producer "$scratch/producer-end-$1-$2.log" --mode "$ringmode" --frames 200 --wait
    wait_exit "$viewer" 90
    vstatus=$status
    cat "$vlog"
    [ $vstatus -eq 124 ] && fail "view ($consumer, $ringmode) did not end within 60 s of its producer"
    wait_exit "$producer" 30
    [ $status -eq 0 ] || fail "the producer exited $status at --frames 200"
    grep -q '^the producer ended or died.* (last frame drawn: [0-9]' "$vlog" || fail "view did not say the producer ended"
    grep -q '^drew [1-9][0-9]* frames\{0,1\} in .* over 1 connection$' "$vlog" || fail "view drew no frame"
    if [ -z "$want" ]; then
      [ $vstatus -eq 0 ] || fail "view without --frames exited $vstatus at the producer's end, expected 0"
      # A FIFO viewer without timelines draws what was ended before the end,
      # up to the last frame the link was told of: at least 197, since the
      # producer (a ring of 3) ended 200 only once 197 was released.
      if [ "$backend" = vulkan ] && [ "$ringmode" = fifo ]; then
        said=$(sed -n 's/^the producer ended or died after ending frame \([0-9]*\) (last frame drawn: \([0-9]*\),.*/\1 \2/p' "$vlog")
        [ -n "$said" ] || fail "view did not say which frame the producer ended last"
        set -- $said
        [ "$1" -ge 197 ] && [ "$1" -le 200 ] || fail "the link knew of frame $1 as the last, of 200"
        [ "$2" -eq "$1" ] || fail "the viewer's last frame drawn is $2, not the last ended it knew of ($1)"
        [ -f "$dir/frame-$(printf %06d "$1").png" ] || fail "no PNG file of the last frame $1"
      fi
    else
      [ $vstatus -eq 1 ] || fail "view --frames 100000 exited $vstatus at the producer's end, expected 1"
      grep -q "^interop-fd view: the producer ended after [0-9]* of 100000 frames$" "$vlog" \
        || fail "view did not say how many of the frames asked for it drew"
    fi
    check_frames "$dir" 3 # of about 200: the C reference is slow in a sanitizer build
    rm -rf "$dir"
  done
  echo "ok: $consumer viewer of a $ringmode ring to the producer's end"
}

case $mode in
serve-vk | serve-gl)
  view_five "${mode#serve-}" fifo
  view_five "${mode#serve-}" mailbox
  ;;
serve-end)
  view_to_the_end vk fifo
  view_to_the_end gl mailbox
  ;;
serve-window)
  # With a display the viewer draws into a window (the frame rate in its
  # title), writes no PNG file, and ends at --frames; Vulkan and GL.
  command -v xvfb-run >/dev/null || { echo "SKIP: xvfb-run not installed (Debian package xvfb)"; exit 77; }
  unset WAYLAND_DISPLAY
  for consumer in vk gl; do
    start_producer "$scratch/producer-window-$consumer.log"
    (cd "$scratch" && xvfb-run -a -s "-screen 0 640x480x24" "$tool" view --connect "$sock" \
      --consumer $consumer --frames 20 --timeout 30) >"$scratch/view-window-$consumer.log" 2>&1
    rc=$?
    cat "$scratch/view-window-$consumer.log"
    [ $rc -eq 0 ] || fail "view in a window ($consumer) exited $rc"
    grep -q '^drew 20 frames in .* over 1 connection$' "$scratch/view-window-$consumer.log" \
      || fail "view in a window did not draw 20 frames"
    grep -q 'running headless\|^wrote ' "$scratch/view-window-$consumer.log" && fail "view in a window wrote PNG files"
    [ -e "$scratch/interop-fd-view" ] && fail "view in a window made a PNG folder"
    kill -TERM "$producer"
    wait_exit "$producer" 30
    [ $status -eq 0 ] || fail "the producer exited $status after SIGTERM"
  done
  ;;
serve-gpu)
  backend=cuda
  size=256x144
  tol=2 # the CUDA kernel against the C reference, rounded to 8 bits
  "$tool" demo --serve "$sock" --backend cuda --frames 1 >"$scratch/probe.log" 2>&1
  if grep -q 'no cuda producer' "$scratch/probe.log"; then
    echo "SKIP: $(grep 'no cuda producer' "$scratch/probe.log")"
    exit 77
  fi
  for consumer in vk gl; do
    view_five $consumer fifo
    view_five $consumer mailbox
    view_to_the_end $consumer fifo
    view_to_the_end $consumer mailbox
  done
  ;;
serve-wait)
  # The viewer first, waiting; the producer killed with kill -9 mid-run and
  # started again, twice: the viewer reconnects each time and draws frames
  # from the new producer, holding as many fds after its third connection as
  # after its second (what each connection imported was closed).
  dir=$scratch/frames
  vlog=$scratch/view.log
  "$tool" view --connect "$sock" --out "$dir" --frames 100000 --wait --timeout 30 >"$vlog" 2>&1 &
  viewer=$!
  pids="$pids $viewer"
  for i in 1 2 3; do
    start_producer "$scratch/producer-$i.log"
    wait_for "$vlog" "^connected: .*(connection $i)" 30
    wait_pngs "$dir" 2 30
    # Counted while the viewer is stopped, so that none opens or closes;
    # not the PNG file it may be writing.
    kill -STOP "$viewer"
    fds=$(ls -l /proc/$viewer/fd | grep -cv "$dir/")
    kill -CONT "$viewer"
    echo "connection $i: the viewer holds $fds fds"
    [ $i -eq 2 ] && fds2=$fds
    [ $i -eq 3 ] && break
    kill -9 "$producer"
    wait "$producer"
    wait_count "$vlog" '^the producer ended or died' $i 30
    wait_count "$vlog" '^waiting up to 30.0 s for it to serve again (--wait)' $i 5
    rm -f "$dir"/*.png
  done
  [ "$fds" -eq "$fds2" ] || fail "the viewer held $fds2 fds at its second connection and $fds at its third"
  kill -TERM "$viewer"
  wait_exit "$viewer" 30
  cat "$vlog"
  [ $status -eq 0 ] || fail "view --wait exited $status after SIGTERM, expected 0"
  grep -q '^drew [0-9]* frames in .* over 3 connections$' "$vlog" || fail "the viewer did not report 3 connections"
  check_frames "$dir" 5
  kill -TERM "$producer"
  wait_exit "$producer" 30
  [ $status -eq 0 ] || fail "the third producer exited $status after SIGTERM"
  ;;
serve-viewer-killed)
  # A viewer killed with kill -9 while it holds frames: the producer goes on
  # (the server releases what the viewer held) and ends at --frames with 0.
  # Then a MAILBOX viewer stopped (SIGSTOP) with its connection open: the
  # producer never waits for it and ends at --frames too.
  # The viewer starts first, so it attaches from the first frames on.
  for case in fifo-killed mailbox-killed mailbox-stopped; do
    ringmode=${case%-*}
    dir=$scratch/frames-$case
    vlog=$scratch/view-$case.log
    plog=$scratch/producer-$case.log
    "$tool" view --connect "$sock" --out "$dir" --timeout 30 >"$vlog" 2>&1 &
    viewer=$!
    pids="$pids $viewer"
    start_producer "$plog" --mode "$ringmode" --frames 1000
    wait_pngs "$dir" 3 30
    if [ "${case#*-}" = killed ]; then
      kill -9 "$viewer"
      wait "$viewer"
    else
      kill -STOP "$viewer"
    fi
    seen=$(frame_numbers "$dir" | tail -n 1)
    wait_exit "$producer" 120
    cat "$plog"
    [ $status -eq 0 ] || fail "the producer ($case) exited $status with its viewer gone or stopped"
    grep -q '^served 1000 frames in .*viewers 1,' "$plog" || fail "the producer did not serve all 1000 frames to one viewer"
    grep -q '^a viewer attached at frame' "$plog" || fail "the producer never saw the viewer"
    if [ "${case#*-}" = killed ]; then
      grep -q '^the viewer left at frame' "$plog" || fail "the producer did not see the viewer go"
    else
      kill -9 "$viewer"
      wait "$viewer"
    fi
    [ "$seen" -lt 1000 ] || fail "the viewer drew frame $seen: it was stopped after the producer's end"
    check_frames "$dir" 5
    echo "ok: $case: the viewer drew up to frame $seen, and the producer went on to 1000"
  done
  ;;
*)
  echo "unknown mode $mode"
  exit 1
  ;;
esac
echo PASS
