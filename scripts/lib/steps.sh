# Shared by the build scripts (source it after setting STEP_PREFIX and LOG): one timed line per
# step on the terminal, every command's output in $LOG, and on failure one line naming the
# step and the last line of its output that reads like an error.
START=${START:-$SECONDS}
STEP="starting"

step() {
    STEP="$1"
    printf '[%s %4ds] %s\n' "$STEP_PREFIX" "$((SECONDS - START))" "$STEP"
    printf '\n==== [%ds] %s\n' "$((SECONDS - START))" "$STEP" >>"$LOG"
}

fail() {
    printf '%s: FAILED: %s (full output: %s)\n' "$STEP_PREFIX" "$1" "$LOG" >&2
    exit 1
}

on_error() {
    local status=$1 section line
    section="$(awk '/^==== / {buf = ""; next} NF {buf = buf $0 "\n"} END {printf "%s", buf}' \
        "$LOG" 2>/dev/null || true)"
    line="$(printf '%s' "$section" | grep -iE 'error|fatal|cannot|unable|not found|no match' \
        | grep -v 'complete log' | tail -n 1 || true)"
    [ -n "$line" ] || line="$(printf '%s' "$section" | tail -n 1)"
    fail "step \"$STEP\" exited with status $status${line:+: ${line:0:240}}"
}
trap 'on_error $?' ERR

# Runs a command with its output in the log, keeping the terminal to one line per step.
run() { "$@" >>"$LOG" 2>&1; }
