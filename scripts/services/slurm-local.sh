#!/usr/bin/env bash
# Throw-away single-node Slurm cluster on localhost, for CI and local testing
# of the Slurm scripts (scripts/slurm/).
#
#   slurm-local.sh start  STATE_DIR   # bring up munged + slurmctld + slurmd
#   slurm-local.sh status STATE_DIR   # exit 0 running, 1 degraded, 3 stopped
#   slurm-local.sh stop   STATE_DIR   # cancel jobs, stop the daemons by PID file
#
# Everything (slurm.conf, munge key and socket, spool, state, logs, pid files)
# lives under STATE_DIR; nothing is written under /etc. The daemons run as the
# calling user, which must be root: slurmd launches jobs as their submitting
# user, and the config sets SlurmUser=root.
#
# `start` prints only shell `export` lines on stdout (progress goes to stderr),
# so a caller can do
#     eval "$(scripts/services/slurm-local.sh start "$dir")"
#     sbatch ... ; squeue ; scontrol show job ID
# The same lines are kept in STATE_DIR/env.sh. SLURM_CONF is the only variable
# the Slurm clients need: the munge socket path reaches them through
# AuthInfo=socket=... in that slurm.conf. The munge/unmunge command-line tools
# read no variable; give them --socket="$RISKMAP_MUNGE_SOCKET".
#
# `start` on a running cluster does nothing; on a half-running one (e.g. a
# daemon died) it stops what is left and starts afresh. Job state in
# STATE_DIR/ctld is recovered across restarts; remove STATE_DIR for a clean
# slate. Accounting is off (accounting_storage/none), so sacct does not work:
# use `scontrol show job ID` (finished jobs stay visible for MinJobAge=300 s)
# or STATE_DIR/log/jobcomp.log (one line per finished job).
#
# Environment overrides:
#   SLURM_LOCAL_CTLD_PORT    slurmctld port   (default 6817)
#   SLURM_LOCAL_SLURMD_PORT  slurmd port      (default 6818)
#   SLURM_LOCAL_TIMEOUT      seconds to wait for the node to be idle (default 60)
set -euo pipefail

readonly NODE=localhost
readonly CTLD_PORT="${SLURM_LOCAL_CTLD_PORT:-6817}"
readonly SLURMD_PORT="${SLURM_LOCAL_SLURMD_PORT:-6818}"
readonly TIMEOUT="${SLURM_LOCAL_TIMEOUT:-60}"
readonly PROG="${0##*/}"

usage() {
    cat >&2 <<EOF
usage: $PROG start STATE_DIR
       $PROG status STATE_DIR
       $PROG stop STATE_DIR

Runs a single-node Slurm cluster (munged, slurmctld, slurmd) on localhost with
all files under STATE_DIR. 'start' prints 'export SLURM_CONF=...' on stdout.
Exit codes: 0 ok; 1 failure (or 'status': degraded); 2 usage; 3 'status': stopped.
EOF
    exit 2
}

# shellcheck source=scripts/services/common.sh
source "$(dirname "$(readlink -f "$0")")/common.sh"

# ---------------------------------------------------------------- paths
set_paths() {
    STATE="$1"
    CONF="$STATE/slurm.conf"
    MUNGE_DIR="$STATE/munge"
    MUNGE_KEY="$MUNGE_DIR/munge.key"
    MUNGE_SOCKET="$MUNGE_DIR/munge.socket"
    MUNGE_PID="$STATE/run/munged.pid"
    MUNGE_LOG="$STATE/log/munged.log"
    MUNGE_SEED="$MUNGE_DIR/munged.seed"
    CTLD_PID="$STATE/run/slurmctld.pid"
    SLURMD_PID="$STATE/run/slurmd.pid"
    CTLD_LOG="$STATE/log/slurmctld.log"
    SLURMD_LOG="$STATE/log/slurmd.log"
    ENV_FILE="$STATE/env.sh"
}

# Wait up to 10 s for a daemon to write its pid file.
wait_pidfile() {
    local file="$1" comm="$2" i
    for ((i = 0; i < 100; i++)); do
        live_pid "$file" "$comm" >/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# ---------------------------------------------------------------- processes
# TERM the process in FILE, wait up to 15 s, then KILL. Removes the pid file.
stop_pid() {
    local file="$1" comm="$2" pid i
    if pid="$(live_pid "$file" "$comm")"; then
        log "stopping $comm (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 150; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "$comm (pid $pid) ignored TERM for 15 s; sending KILL"
            kill -KILL "$pid" 2>/dev/null || true
            for ((i = 0; i < 50; i++)); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
        fi
    fi
    rm -f "$file"
}

node_state() {
    SLURM_CONF="$CONF" timeout 10 sinfo -h -N -n "$NODE" -o '%T' 2>/dev/null | head -n 1
}

# 0 = all three daemons alive and the node usable, 1 = some alive, 3 = none.
cluster_state() {
    local n=0 state
    live_pid "$MUNGE_PID" munged >/dev/null && n=$((n + 1))
    live_pid "$CTLD_PID" slurmctld >/dev/null && n=$((n + 1))
    live_pid "$SLURMD_PID" slurmd >/dev/null && n=$((n + 1))
    if ((n == 0)); then return 3; fi
    if ((n < 3)); then return 1; fi
    state="$(node_state)" || return 1
    case "$state" in
        idle | mixed | allocated | completing) return 0 ;;
        *) return 1 ;;
    esac
}

dump_logs() {
    local f
    for f in "$MUNGE_LOG" "$CTLD_LOG" "$SLURMD_LOG"; do
        if [[ -f "$f" ]]; then
            printf '%s: ----- last lines of %s -----\n' "$PROG" "$f" >&2
            tail -n 40 "$f" >&2
        else
            printf '%s: ----- %s: not written -----\n' "$PROG" "$f" >&2
        fi
    done
}

fail_start() {
    log "error: $*"
    dump_logs
    log "stopping whatever was started"
    do_stop >/dev/null 2>&1 || true
    exit 1
}

# ---------------------------------------------------------------- config
# Every ancestor of DIR is searchable by others (munged insists on that for
# its socket directory unless forced).
world_traversable() {
    local d="$1" mode
    while [[ -n "$d" && "$d" != / ]]; do
        mode="$(stat -c '%a' "$d")"
        (((8#$mode & 1) != 0)) || return 1
        d="${d%/*}"
    done
}

write_config() {
    local cpus mem_total_mb real_mem def_mem
    cpus="$(nproc)"
    mem_total_mb="$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 }' /proc/meminfo)"
    # A little below what slurmd will detect, or the node is marked invalid.
    real_mem=$((mem_total_mb * 95 / 100))
    # Jobs that give no --mem get an equal share per CPU rather than the whole
    # node (with CR_Core_Memory the latter would run them one at a time).
    def_mem=$((real_mem / cpus))

    cat >"$CONF.tmp" <<EOF
# Generated by $PROG for a single-node test cluster; rewritten on every start.
ClusterName=riskmap-ci
SlurmctldHost=$NODE
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root

AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET

StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$CTLD_LOG
SlurmdLogFile=$SLURMD_LOG
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$STATE/plugstack.conf
MailProg=/bin/true

ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$def_mem
MinJobAge=300

JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$STATE/log/jobcomp.log

NodeName=$NODE CPUs=$cpus RealMemory=$real_mem State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
    mv -f "$CONF.tmp" "$CONF"
    # Empty SPANK config, so no plugin from /etc/slurm/plugstack.conf.d loads.
    : >"$STATE/plugstack.conf"
}

write_env() {
    {
        printf 'export SLURM_CONF=%q\n' "$CONF"
        printf 'export RISKMAP_MUNGE_SOCKET=%q\n' "$MUNGE_SOCKET"
    } >"$ENV_FILE"
}

# ---------------------------------------------------------------- commands
do_start() {
    local t0 rc=0 state="" deadline force=() i

    [[ "$(id -u)" == 0 ]] || die "must run as root (slurmd starts jobs as their owner; SlurmUser=root)"
    local cmd
    for cmd in munged munge slurmctld slurmd sinfo scontrol; do
        command -v "$cmd" >/dev/null || die "'$cmd' not found (apt-get install slurm-wlm munge)"
    done

    cluster_state || rc=$?
    if ((rc == 0)); then
        log "already running (node $NODE $(node_state)); nothing to do"
        write_env
        cat "$ENV_FILE"
        return 0
    elif ((rc == 1)); then
        log "cluster is half-running; restarting it"
        do_stop
    fi

    # Another cluster (or anything else) on our ports would make the daemons
    # exit after start-up; say so up front.
    local port
    for port in "$CTLD_PORT" "$SLURMD_PORT"; do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            die "port $port is already in use (another local cluster? see SLURM_LOCAL_CTLD_PORT/SLURM_LOCAL_SLURMD_PORT)"
        fi
    done

    t0="$(date +%s.%N)"
    mkdir -p "$STATE"
    mkdir -p "$STATE/ctld" "$STATE/spool" "$STATE/run" "$STATE/log" "$MUNGE_DIR"
    chmod 0755 "$STATE/run" "$STATE/log" "$MUNGE_DIR"
    chmod 0700 "$STATE/ctld" "$STATE/spool"

    # AF_UNIX socket paths are limited to 107 bytes.
    ((${#MUNGE_SOCKET} <= 107)) ||
        die "munge socket path too long (${#MUNGE_SOCKET} > 107 bytes): $MUNGE_SOCKET; use a shorter STATE_DIR"

    if [[ ! -s "$MUNGE_KEY" ]]; then
        log "creating munge key $MUNGE_KEY"
        rm -f "$MUNGE_KEY"
        (umask 077 && dd if=/dev/urandom of="$MUNGE_KEY" bs=1024 count=1 status=none)
    fi
    chown "$(id -u):$(id -g)" "$MUNGE_KEY"
    chmod 0400 "$MUNGE_KEY"

    write_config
    write_env

    # munged: a STATE_DIR made by `mktemp -d` is mode 0700, which munged refuses
    # for a socket directory unless forced. All clients here run as root, so
    # that check buys nothing; force only then.
    if ! world_traversable "$MUNGE_DIR"; then
        log "note: $STATE is not searchable by others; starting munged with --force"
        force=(--force)
    fi
    rm -f "$MUNGE_SOCKET" "$MUNGE_SOCKET.lock"
    log "starting munged"
    munged "${force[@]}" --socket="$MUNGE_SOCKET" --key-file="$MUNGE_KEY" \
        --pid-file="$MUNGE_PID" --log-file="$MUNGE_LOG" --seed-file="$MUNGE_SEED" ||
        fail_start "munged failed to start"
    for ((i = 0; i < 50; i++)); do
        munge -n --socket="$MUNGE_SOCKET" 2>/dev/null | unmunge --socket="$MUNGE_SOCKET" >/dev/null 2>&1 && break
        sleep 0.1
    done
    ((i < 50)) || fail_start "munged does not answer on $MUNGE_SOCKET"

    log "starting slurmctld"
    rm -f "$CTLD_PID" "$SLURMD_PID"
    SLURM_CONF="$CONF" slurmctld -f "$CONF" || fail_start "slurmctld failed to start"
    wait_pidfile "$CTLD_PID" slurmctld || fail_start "slurmctld did not come up"
    log "starting slurmd -N $NODE"
    SLURM_CONF="$CONF" slurmd -f "$CONF" -N "$NODE" || fail_start "slurmd failed to start"
    wait_pidfile "$SLURMD_PID" slurmd || fail_start "slurmd did not come up"

    deadline=$((SECONDS + TIMEOUT))
    while ((SECONDS < deadline)); do
        live_pid "$CTLD_PID" slurmctld >/dev/null || fail_start "slurmctld exited"
        live_pid "$SLURMD_PID" slurmd >/dev/null || fail_start "slurmd exited"
        state="$(node_state)" || state=""
        [[ "$state" == idle ]] && break
        sleep 0.5
    done
    [[ "$state" == idle ]] ||
        fail_start "node $NODE not idle after ${TIMEOUT} s (state: '${state:-no answer}'; sinfo: $(SLURM_CONF="$CONF" sinfo 2>&1 | tr '\n' ' '))"

    log "cluster riskmap-ci up in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s" \
        "(node $NODE: $(nproc) CPUs; logs in $STATE/log)"
    cat "$ENV_FILE"
}

do_stop() {
    local ids i
    # Cancel every job first, so that no slurmstepd outlives the daemons.
    if live_pid "$CTLD_PID" slurmctld >/dev/null && [[ -f "$CONF" ]]; then
        ids="$(SLURM_CONF="$CONF" timeout 10 squeue -h -o '%A' 2>/dev/null | tr '\n' ' ')" || ids=""
        if [[ -n "${ids// /}" ]]; then
            log "cancelling jobs: $ids"
            # shellcheck disable=SC2086  # word-splitting the id list is intended
            SLURM_CONF="$CONF" timeout 10 scancel $ids 2>/dev/null || true
            for ((i = 0; i < 30; i++)); do
                [[ -z "$(SLURM_CONF="$CONF" timeout 5 squeue -h -t R,CG,CF -o '%A' 2>/dev/null)" ]] && break
                sleep 0.5
            done
        fi
    fi
    stop_pid "$SLURMD_PID" slurmd
    stop_pid "$CTLD_PID" slurmctld
    stop_pid "$MUNGE_PID" munged
    rm -f "$MUNGE_SOCKET" "$MUNGE_SOCKET.lock"
    log "stopped"
}

do_status() {
    local rc=0 name file pid
    for name in munged slurmctld slurmd; do
        case "$name" in
            munged) file="$MUNGE_PID" ;;
            slurmctld) file="$CTLD_PID" ;;
            slurmd) file="$SLURMD_PID" ;;
        esac
        if pid="$(live_pid "$file" "$name")"; then
            printf '%-10s running (pid %s)\n' "$name" "$pid"
        else
            printf '%-10s stopped\n' "$name"
        fi
    done
    cluster_state || rc=$?
    case "$rc" in
        0) printf 'node %s: %s\ncluster: running (SLURM_CONF=%s)\n' "$NODE" "$(node_state)" "$CONF" ;;
        1) printf 'cluster: degraded (node state: %s)\n' "$(node_state || true)" ;;
        *) printf 'cluster: stopped\n' ;;
    esac
    return "$rc"
}

# ---------------------------------------------------------------- main
(($# == 2)) || usage
[[ -n "$2" ]] || usage
set_paths "$(realpath -m -- "$2")"
case "$1" in
    start) do_start ;;
    stop) do_stop ;;
    status) do_status ;;
    *) usage ;;
esac
