# Shared by nginx-local.sh and slurm-local.sh (sourced; expects PROG to be set).

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# PID recorded in FILE if that process is alive and is the expected program COMM
# (guards against a stale pid file whose number was reused).
live_pid() {
    local file="$1" comm="$2" pid
    [[ -s "$file" ]] || return 1
    pid="$(tr -dc '0-9' <"$file")"
    [[ -n "$pid" ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$comm" ]] || return 1
    printf '%s\n' "$pid"
}
