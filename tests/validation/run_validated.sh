#!/bin/sh
# run_validated.sh SHIM COMMAND [ARGS...]
#
# Runs COMMAND with the Khronos validation layer (VK_LAYER_KHRONOS_validation)
# in every Vulkan instance it or its children create, synchronization
# validation on, and fails if the layer reports any error or warning.
#
# Exit status: COMMAND's own status (77 stays a skip) when the layer said
# nothing; otherwise 1 (or COMMAND's failing status), after printing every
# message. Also 1 when COMMAND exited 0 but no instance ran under the layer
# (the layer was not found: install vulkan-validationlayers, or point
# VK_LAYER_PATH at the folder of VkLayer_khronos_validation.json).
#
# How: the layer reads a settings file from VK_LAYER_SETTINGS_PATH (this
# script writes one) and logs to /dev/fd/9, the write end of a pipe that this
# script reads, so every instance of every process appends to one log, in
# order, and none truncates another's messages. SHIM is the library built
# from layer_log_shim.c, preloaded so that the layer writes to fd 9 itself
# instead of opening (and leaking) one more fd per instance, which the tests
# that count their fds would report. Info messages are logged too:
# the layer's own one per instance ("Khronos Validation Layer Active", which
# lists the enabled features) proves that it ran with synchronization
# validation; other info messages are printed, not counted as failures.
# Performance and best-practice warnings stay off: they are advice about
# speed on some GPU, not about correctness.
set -u
[ $# -ge 2 ] || { echo "usage: run_validated.sh SHIM COMMAND [ARGS...]" >&2; exit 2; }
shim=$1
shift
[ -f "$shim" ] || { echo "run_validated.sh: no shim library at $shim" >&2; exit 2; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/ifd-validation.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT INT TERM

# report_flags: errors and warnings fail; info shows the per-instance status.
# enable_message_limit off: every message is counted, not the first 10 of each.
# disables: the default (thread safety off) is replaced; only the shader
# validation cache is off, so that no test writes to ~/.cache.
# message_id_filter: VUID-VkSemaphoreSignalInfo-value-03259 alone, a false
# report of this layer version (1.3.239) for external timeline semaphores:
# vkGetSemaphoreCounterValue on one leaves an orphaned "pending signal" at the
# value it read, and a later vkSignalSemaphore above that value is reported
# (seen on the H200 as "pending signal operation (0)"; Vulkan-ValidationLayers
# issue 8212, fixed by pull request 8396 in 2024). A real 03259 is hidden too
# while this layer is the one CI installs.
cat >"$dir/vk_layer_settings.txt" <<'EOF'
khronos_validation.debug_action = VK_DBG_LAYER_ACTION_LOG_MSG
khronos_validation.log_filename = /dev/fd/9
khronos_validation.report_flags = error,warn,info
khronos_validation.enable_message_limit = false
khronos_validation.enables = VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT
khronos_validation.disables = VK_VALIDATION_FEATURE_DISABLE_SHADER_VALIDATION_CACHE_EXT
khronos_validation.message_id_filter = VUID-VkSemaphoreSignalInfo-value-03259
EOF

# Nothing in the caller's environment may weaken or redirect the layer: its
# environment variables (VK_LAYER_*, and VK_KHRONOS_VALIDATION_* in newer
# layers) take precedence over the settings file.
for v in $(env | sed -n 's/^\(VK_KHRONOS_VALIDATION_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
unset VK_LAYER_ENABLES VK_LAYER_DISABLES VK_LAYER_MESSAGE_ID_FILTER \
      VK_LAYER_DUPLICATE_MESSAGE_LIMIT VK_LAYER_CUSTOM_STYPE_LIST VK_LOADER_LAYERS_DISABLE
export VK_LAYER_SETTINGS_PATH="$dir"
export VK_INSTANCE_LAYERS=VK_LAYER_KHRONOS_validation
export IFD_VALIDATION_LOG=/dev/fd/9

exec 8>&1
{
  LD_PRELOAD="$shim${LD_PRELOAD:+ $LD_PRELOAD}" "$@" 9>&1 1>&8 8>&-
  echo $? >"$dir/rc"
} | cat >"$dir/log"
exec 8>&-
rc=$(cat "$dir/rc")

log=$dir/log
# Every message starts with a line "<id>(<SEVERITY> / <TYPE>): msgNum: ...".
grep -E '^[^ ].*\((ERROR|WARN|INFO|PERF|VERBOSE) / [A-Z]+\): msgNum: ' "$log" >"$dir/headers"
grep -E '\((ERROR|WARN) / ' "$dir/headers" >"$dir/bad"
bad=$(wc -l <"$dir/bad")
instances=$(grep -c 'Khronos Validation Layer Active:' "$log")
synced=$(grep -c '^ *Current Enables:.*SYNCHRONIZATION_VALIDATION' "$log")
full=$(grep -c '^ *Current Disables: VK_VALIDATION_FEATURE_DISABLE_SHADER_VALIDATION_CACHING_EXT\.$' "$log")

echo "validation: $instances Vulkan instance(s) ran under VK_LAYER_KHRONOS_validation" \
  "($synced with synchronization validation); $bad error(s)/warning(s); command exited $rc"
other=$(grep -Ev '\((ERROR|WARN) / |^UNASSIGNED-khronos-validation-createinstance-status-message' \
  "$dir/headers" | sed 's/(.*//' | sort | uniq -c)
[ -n "$other" ] && printf 'validation: info messages (not failures):\n%s\n' "$other"

status=$rc
if [ "$bad" -gt 0 ]; then
  echo "validation: FAIL: the layer reported these messages (count, id, severity):"
  sed 's/: msgNum: .*//' "$dir/bad" | sort | uniq -c | sort -rn
  echo "validation: the messages in full (the first 300 lines of them):"
  awk '/^[^ ].*\((INFO|VERBOSE) \/ [A-Z]+\): msgNum: /{skip=1; next} /^[^ ]/{skip=0} !skip' "$log" |
    head -n 300
  [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ] && status=1
fi
if [ "$synced" -ne "$instances" ] || [ "$full" -ne "$instances" ]; then
  echo "validation: FAIL: an instance ran without synchronization validation, or with checks" \
    "disabled:"
  grep '^ *Current \(Enables\|Disables\):' "$log" | sort | uniq -c
  status=1
fi
if [ "$rc" -eq 0 ] && [ "$instances" -eq 0 ]; then
  echo "validation: FAIL: the command passed, but no Vulkan instance ran under the layer" \
    "(is the Debian package vulkan-validationlayers installed, or VK_LAYER_PATH set?)"
  status=1
fi
exit "$status"
