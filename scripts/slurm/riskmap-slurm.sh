#!/usr/bin/env bash
# Run a riskmap scan on a Slurm cluster as N shards plus a merge.
#
#   riskmap-slurm.sh --shards N --output OUT [options] -- SCAN_ARGS...
#
# Submits
#   1. an array job of N tasks; task k (1-based) runs
#        riskmap scan SCAN_ARGS --shard k/N --threads C --ram R \
#          -o WORKDIR/shard-k-of-N.EXT --resume --overwrite --quiet --json-progress
#      where EXT is OUT's extension and R is 80% of --mem. --resume lets a
#      failed, requeued or resubmitted shard continue from its journal
#      (WORKDIR/shard-k-of-N.EXT.journal). --overwrite is there for shards
#      that had already finished: riskmap refuses to resume onto an existing
#      output, while with --overwrite it rebuilds that output from the journal
#      without scanning again. So rerunning the whole submission is safe.
#   2. a merge job, --dependency=afterok:<array job>, running
#        riskmap merge WORKDIR/shard-1-of-N.EXT ... WORKDIR/shard-N-of-N.EXT -o OUT --overwrite
#      (the shards are listed in numeric order, and a missing one fails the job).
#
# Prints "array_job=<id>" and "merge_job=<id>" on stdout (everything else goes
# to stderr) and writes the same, plus shards/workdir/output, to
# WORKDIR/jobs.env, which is safe to `source`. The job scripts are written to
# WORKDIR (scan-array.sh, merge.sh) with every argument escaped by printf %q,
# so SCAN_ARGS may hold spaces, quotes and $ (e.g. --set rule="ndvi < 0.2").
# Logs: WORKDIR/logs/scan-<array job>_<k>.log and merge-<job>.log; with
# --json-progress each scan log carries NDJSON progress lines.
#
# The jobs run in the directory this script was called from (sbatch --chdir),
# so relative paths in SCAN_ARGS mean what they mean here. On a real cluster
# that directory, WORKDIR, OUT, the inputs and the riskmap binary must be on a
# filesystem the compute nodes share.
#
# If a shard fails, the merge stays pending with reason DependencyNeverSatisfied
# (or is cancelled, on clusters with kill_invalid_depend). Fix the cause, then
# either
#   - cancel the merge (scancel <merge_job>) and run this script again with the
#     same arguments and --workdir: every shard resumes from its journal and a
#     new merge waits for them; or
#   - requeue the failed task(s), `scontrol requeue <array_job>_<k>` (Slurm
#     holds a requeued job back for about 2 minutes), and once `squeue` shows
#     no task of the array left, release the merge with
#     `scontrol update JobId=<merge_job> Dependency=` : Slurm (22.05 tested)
#     does not re-check an afterok dependency that has failed, even when the
#     requeued task then succeeds.
set -euo pipefail

readonly PROG="${0##*/}"
SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR

usage() {
    cat <<EOF
usage: $PROG --shards N --output OUT [--riskmap PATH] [--cpus-per-task C]
       [--mem MB] [--time HH:MM:SS] [--partition P] [--workdir DIR]
       [--sbatch-arg ARG]... [--dry-run] -- SCAN_ARGS...

Submit a sharded 'riskmap scan' as a Slurm array job of N tasks plus a merge
job that runs once every shard has succeeded.

  --shards N          number of shards / array tasks (required)
  --output OUT        merged output (.gpkg, .fgb or .geojson) (required)
  --riskmap PATH      riskmap binary (default: the repo's build/riskmap if
                      built, else 'riskmap' on PATH)
  --cpus-per-task C   CPUs per shard, also passed as --threads (default 1)
  --mem MB            memory per shard in MB; riskmap gets --ram of 80% of it
                      (default 4096)
  --time T            time limit per job (sbatch --time; default: partition's)
  --partition P       partition (default: the cluster's default)
  --workdir DIR       shard outputs, job scripts, logs, jobs.env
                      (default: OUT without its extension, plus .shards)
  --sbatch-arg ARG    extra sbatch option for both jobs, e.g.
                      --sbatch-arg=--account=geo (repeatable)
  --dry-run           print the job scripts and sbatch commands; submit and
                      write nothing
  -h, --help          this help

Everything after -- is passed to 'riskmap scan' unchanged; it must not set
-o/--output, --shard, --threads, --ram, --resume or --overwrite (this
script does).

Prints array_job=<id> and merge_job=<id> on stdout and writes them to
WORKDIR/jobs.env. Exit codes: 0 submitted (or dry run), 1 sbatch failed,
2 bad arguments.
EOF
}

die_usage() {
    printf '%s: %s\n' "$PROG" "$*" >&2
    printf "Try '%s --help'.\n" "$PROG" >&2
    exit 2
}
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }

# Words of an argument vector, each escaped for bash, joined by spaces.
quote_words() {
    local out="" w
    for w in "$@"; do
        out+="${out:+ }$(printf '%q' "$w")"
    done
    printf '%s' "$out"
}

# ------------------------------------------------------------------ arguments
shards="" output="" riskmap="" cpus=1 mem=4096 time_limit="" partition="" workdir="" dry_run=0
extra_sbatch=()
scan_args=()
saw_separator=0

# $1 option, $2 number of words left, $3 the word after the option.
need_value() {
    (($2 >= 2)) || die_usage "option '$1' needs a value"
    # A missing value would swallow the next option (--sbatch-arg takes options).
    [[ "$1" == --sbatch-arg || "$3" != -* ]] || die_usage "option '$1' needs a value, not '$3'"
}

while (($#)); do
    opt="$1"
    case "$opt" in
        --) shift; saw_separator=1; scan_args=("$@"); break ;;
        -h | --help) usage; exit 0 ;;
        --dry-run) dry_run=1; shift; continue ;;
        --*=*) value="${opt#*=}"; opt="${opt%%=*}"; shift ;;
        --shards | --output | --riskmap | --cpus-per-task | --mem | --time | --partition | --workdir | --sbatch-arg)
            need_value "$opt" "$#" "${2-}"; value="$2"; shift 2 ;;
        *) die_usage "unknown option '$opt' (scan arguments go after --)" ;;
    esac
    case "$opt" in
        --shards) shards="$value" ;;
        --output) output="$value" ;;
        --riskmap) riskmap="$value" ;;
        --cpus-per-task) cpus="$value" ;;
        --mem) mem="$value" ;;
        --time) time_limit="$value" ;;
        --partition) partition="$value" ;;
        --workdir) workdir="$value" ;;
        --sbatch-arg) extra_sbatch+=("$value") ;;
        *) die_usage "unknown option '$opt'" ;;
    esac
done

((saw_separator)) || die_usage "missing '-- SCAN_ARGS...' (the inputs and options for 'riskmap scan')"
((${#scan_args[@]})) || die_usage "no SCAN_ARGS after --"
[[ -n "$shards" ]] || die_usage "--shards is required"
[[ -n "$output" ]] || die_usage "--output is required"
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || die_usage "--shards must be a positive integer, not '$shards'"
[[ "$cpus" =~ ^[1-9][0-9]*$ ]] || die_usage "--cpus-per-task must be a positive integer, not '$cpus'"
[[ "$mem" =~ ^[1-9][0-9]*$ ]] || die_usage "--mem must be a whole number of MB, not '$mem'"
ram=$((mem * 80 / 100))
((ram >= 64)) || die_usage "--mem $mem is too small: riskmap needs --ram >= 64 MB (--mem >= 80)"

for a in "${scan_args[@]}"; do
    case "$a" in
        -o | --output | --output=*) die_usage "SCAN_ARGS must not set the output ($a); use --output" ;;
        --shard | --shard=*) die_usage "SCAN_ARGS must not set $a; use --shards" ;;
        --threads | --threads=*) die_usage "SCAN_ARGS must not set $a; use --cpus-per-task" ;;
        --ram | --ram=*) die_usage "SCAN_ARGS must not set $a; use --mem" ;;
        --resume | --overwrite) die_usage "SCAN_ARGS must not set $a; it is always on" ;;
    esac
done

# Output extension, carried over to the shard files.
out_base="${output##*/}"
[[ "$out_base" == *.* && "${out_base##*.}" != "" && "${out_base%.*}" != "" ]] ||
    die_usage "--output '$output' needs an extension (.gpkg, .fgb or .geojson)"
ext="${out_base##*.}"
output="$(realpath -m -s -- "$output")"
[[ -n "$workdir" ]] || workdir="${output%.*}.shards"
workdir="$(realpath -m -s -- "$workdir")"
submit_dir="$PWD"

# riskmap binary: absolute, since the jobs may start elsewhere.
if [[ -z "$riskmap" ]]; then
    if [[ -x "$SCRIPT_DIR/../../build/riskmap" ]]; then
        riskmap="$SCRIPT_DIR/../../build/riskmap"
    elif command -v riskmap >/dev/null 2>&1; then
        riskmap="$(command -v riskmap)"
    elif ((dry_run)); then
        riskmap="$SCRIPT_DIR/../../build/riskmap"
        log "warning: no riskmap binary found; showing $riskmap"
    else
        die "no riskmap binary: build the repo (build/riskmap) or pass --riskmap PATH"
    fi
elif [[ "$riskmap" != */* ]]; then
    if command -v -- "$riskmap" >/dev/null 2>&1; then
        riskmap="$(command -v -- "$riskmap")"
    elif ((!dry_run)); then
        die "--riskmap '$riskmap' not found on PATH"
    fi
fi
[[ "$riskmap" != */* ]] || riskmap="$(realpath -m -s -- "$riskmap")"
if ((!dry_run)) && [[ ! -x "$riskmap" ]]; then
    die "riskmap binary '$riskmap' is not executable"
fi

# ------------------------------------------------------------------ job scripts
scan_script="$workdir/scan-array.sh"
merge_script="$workdir/merge.sh"
log_dir="$workdir/logs"

# sbatch expands %-patterns in --output; keep a literal % in the path literal.
log_dir_pat="${log_dir//%/%%}"

q_riskmap="$(printf '%q' "$riskmap")"
q_workdir="$(printf '%q' "$workdir")"
q_ext="$(printf '%q' "$ext")"
q_scan_args="$(quote_words "${scan_args[@]}")"
generated="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

scan_body="$(
    cat <<EOF
#!/usr/bin/env bash
# Generated by $PROG at $generated; rerunning it rewrites this file.
# Slurm array task k of 1-$shards: riskmap scan of shard k/$shards.
set -euo pipefail
shards=$shards
k="\${SLURM_ARRAY_TASK_ID:?not running as a Slurm array task}"
out=$q_workdir/shard-"\$k"-of-"\$shards".$q_ext
printf 'riskmap-slurm: shard %s/%s on %s -> %s\\n' "\$k" "\$shards" "\$(hostname)" "\$out" >&2
exec $q_riskmap scan $q_scan_args \\
    --shard "\$k/\$shards" --threads $cpus --ram $ram \\
    -o "\$out" --resume --overwrite --quiet --json-progress
EOF
)"

merge_body="$(
    cat <<EOF
#!/usr/bin/env bash
# Generated by $PROG at $generated; rerunning it rewrites this file.
# Merge the $shards shard outputs into the final layer.
set -euo pipefail
shards=$shards
files=()
for ((k = 1; k <= shards; k++)); do
    f=$q_workdir/shard-"\$k"-of-"\$shards".$q_ext
    if [[ ! -e "\$f" ]]; then
        printf 'riskmap-slurm: missing shard output %s\\n' "\$f" >&2
        exit 1
    fi
    files+=("\$f")
done
printf 'riskmap-slurm: merging %s shards on %s -> %s\\n' "\$shards" "\$(hostname)" $(printf '%q' "$output") >&2
exec $q_riskmap merge "\${files[@]}" -o $(printf '%q' "$output") --overwrite
EOF
)"

common_sbatch=(--parsable "--chdir=$submit_dir" "--mem=$mem")
[[ -n "$time_limit" ]] && common_sbatch+=("--time=$time_limit")
[[ -n "$partition" ]] && common_sbatch+=("--partition=$partition")
common_sbatch+=("${extra_sbatch[@]}")

scan_cmd=(sbatch "${common_sbatch[@]}" --job-name=riskmap-scan "--array=1-$shards"
    "--cpus-per-task=$cpus" "--output=$log_dir_pat/scan-%A_%a.log" "$scan_script")
# The merge command needs the array job id; placeholder until it is known.
merge_cmd_head=(sbatch "${common_sbatch[@]}" --job-name=riskmap-merge --cpus-per-task=1
    "--output=$log_dir_pat/merge-%j.log")

if ((dry_run)); then
    printf '# dry run: nothing is written or submitted\n'
    printf '# ---- %s\n%s\n' "$scan_script" "$scan_body"
    printf '# ---- %s\n%s\n' "$merge_script" "$merge_body"
    printf '# ---- submission\n'
    printf 'mkdir -p %s\n' "$(printf '%q' "$log_dir")"
    # shellcheck disable=SC2016  # the $ are meant for the reader's shell
    printf 'array_job=$(%s | cut -d";" -f1)\n' "$(quote_words "${scan_cmd[@]}")"
    # shellcheck disable=SC2016
    printf 'merge_job=$(%s --dependency=afterok:"$array_job" %s | cut -d";" -f1)\n' \
        "$(quote_words "${merge_cmd_head[@]}")" "$(printf '%q' "$merge_script")"
    exit 0
fi

command -v sbatch >/dev/null 2>&1 || die "sbatch not found (is this a Slurm submit host? is SLURM_CONF set?)"
mkdir -p "$workdir" "$log_dir"
printf '%s\n' "$scan_body" >"$scan_script.tmp" && mv -f "$scan_script.tmp" "$scan_script"
printf '%s\n' "$merge_body" >"$merge_script.tmp" && mv -f "$merge_script.tmp" "$merge_script"
chmod 0755 "$scan_script" "$merge_script"
rm -f "$workdir/jobs.env"

# Job id from `sbatch --parsable` ("id" or "id;cluster").
submit() {
    local out id
    out="$("$@")" || return 1
    id="${out%%;*}"
    [[ "$id" =~ ^[0-9]+$ ]] || { printf '%s: unexpected sbatch output: %s\n' "$PROG" "$out" >&2; return 1; }
    printf '%s\n' "$id"
}

log "submitting $shards scan shard(s): $(quote_words "${scan_cmd[@]}")"
array_job="$(submit "${scan_cmd[@]}")" || die "sbatch of the scan array failed"
printf 'array_job=%s\n' "$array_job"

merge_cmd=("${merge_cmd_head[@]}" "--dependency=afterok:$array_job" "$merge_script")
log "submitting the merge: $(quote_words "${merge_cmd[@]}")"
if ! merge_job="$(submit "${merge_cmd[@]}")"; then
    printf 'array_job=%q\nshards=%q\nworkdir=%q\noutput=%q\n' "$array_job" "$shards" "$workdir" "$output" \
        >"$workdir/jobs.env"
    die "sbatch of the merge failed; the scan array $array_job is running. Submit the merge by hand: $(quote_words "${merge_cmd[@]}")"
fi
printf 'merge_job=%s\n' "$merge_job"

printf 'array_job=%q\nmerge_job=%q\nshards=%q\nworkdir=%q\noutput=%q\n' \
    "$array_job" "$merge_job" "$shards" "$workdir" "$output" >"$workdir/jobs.env.tmp"
mv -f "$workdir/jobs.env.tmp" "$workdir/jobs.env"
log "jobs recorded in $workdir/jobs.env; logs in $log_dir"
