#!/usr/bin/env bash
# The Slurm path for real: a one-node Slurm on localhost (munged, slurmctld, slurmd) runs the study array
# and the dependent merge-and-report job of scripts/slurm/ on a tiny generated task; the merged database
# must hold every trial with exactly the step values, and give exactly the report tables, of a run on
# one machine.
#
# usage: tests/slurm/run_slurm_test.sh [--harness PATH] [--shards N] [--keep] [--timeout SECONDS]
#
# Needs root: it installs Debian's slurm-wlm and munge with apt-get when they are missing (services are
# not started by the packages), and runs its own munged, slurmctld and slurmd from a temporary folder,
# on ports 16817/16818 (HARNESS_SLURM_TEST_PORT moves them), stopping them by pid when it ends. The
# harness build must hold the he_base, mei_fn and warmup plugins (cmake --build build --target harness
# all_strategies). Exit status: 0 passed, 1 failed, 77 skipped (not root, or no apt-get to install Slurm).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

harness=$root/build/bin/harness
shards=3
keep=0
timeout=900
while [[ $# -gt 0 ]]; do
  case $1 in
    --harness) harness=$2; shift 2 ;;
    --shards) shards=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --timeout) timeout=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "run_slurm_test.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

log() { echo "slurm test: $*"; }
fail() {
  echo "slurm test: FAILED: $*" >&2
  exit 1
}
skip() {
  echo "slurm test: SKIPPED: $*"
  exit 77
}

[[ $(id -u) == 0 ]] || skip "needs root (it installs packages and runs slurmctld/slurmd)"
[[ -x $harness ]] || fail "no harness binary at $harness (build it, or pass --harness)"
harness=$(realpath "$harness")
start=$(date +%s)

install_slurm() {
  local tool missing=0
  for tool in munged slurmctld slurmd sbatch scontrol sinfo; do
    command -v "$tool" >/dev/null || missing=1
  done
  ((missing)) || return 0
  command -v apt-get >/dev/null || skip "Slurm is not installed and there is no apt-get to install it"
  log "installing slurm-wlm and munge with apt-get"
  # Keep the packages from starting their services: this test runs its own daemons.
  local policy=/usr/sbin/policy-rc.d made_policy=0 status=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
  fi
  { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null; } ||
    status=$?
  ((made_policy)) && rm -f "$policy"
  ((status == 0)) || fail "apt-get could not install slurm-wlm and munge (status $status)"
}
install_slurm

work=$(mktemp -d /tmp/harness-slurm-test.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/log"
pids=()
array_job=
merge_job=
cleanup() {
  local status=$? pid i
  set +e
  [[ -n $array_job ]] && scancel "$array_job" 2>/dev/null
  [[ -n $merge_job ]] && scancel "$merge_job" 2>/dev/null
  # Stop the daemons this script started, newest first, by pid.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[i]}
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  if ((status != 0)); then
    for f in "$work"/log/*.log "$work"/results/logs/*.out; do
      [[ -f $f ]] && { echo "---- $f (last lines)"; tail -n 30 "$f"; }
    done
  fi
  if ((keep || status != 0 && status != 77)); then
    echo "slurm test: files kept in $work"
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT

port=${HARNESS_SLURM_TEST_PORT:-16817}
for p in "$port" "$((port + 1))"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    fail "port $p is in use (another Slurm?); set HARNESS_SLURM_TEST_PORT to a free pair"
  fi
done

# --- The task, the backbone and the experiment -----------------------------------------------------
python3 "$here/make_fixture.py" "$work/data"
"$harness" pretrain --arch convnet --dataset idx --data-path "$work/data" --epochs 1 --batch-size 32 --seed 1 \
  --device cpu --threads 1 --out "$work/convnet.pt" >"$work/log/pretrain.log" 2>&1 ||
  fail "harness pretrain failed: $(tail -n 5 "$work/log/pretrain.log")"
cat >"$work/experiment.ini" <<EOF
[experiment]
name = slurm-study
seeds = 3
strategies = he_base, mei_fn, warmup
[backbone]
checkpoint = $work/convnet.pt
[data]
dataset = idx
path = $work/data
[train]
steps = 25
batch_size = 32
lr = 1e-3
dense_eval_steps = 5
eval_every = 10
[strategy.warmup]
warmup_steps = 3
EOF
trials=9

# --- A one-node Slurm on localhost --------------------------------------------------------------------
mkdir -m 700 "$work/munge"
mkdir -m 755 "$work/munge-run" "$work/spool" "$work/state"
head -c 1024 /dev/urandom >"$work/munge/munge.key"
chmod 400 "$work/munge/munge.key"
munged -F -f --socket="$work/munge-run/munge.sock" --key-file="$work/munge/munge.key" \
  --pid-file="$work/munge-run/munged.pid" --seed-file="$work/munge/munged.seed" >"$work/log/munged.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [[ -S $work/munge-run/munge.sock ]] && break; sleep 0.1; done
[[ -S $work/munge-run/munge.sock ]] || fail "munged did not start"

node=$(hostname -s)
cat >"$work/slurm.conf" <<EOF
ClusterName=harness-test
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$work/munge-run/munge.sock
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$work/slurm.conf
slurmctld -D -i >"$work/log/slurmctld.log" 2>&1 &
pids+=($!)
sleep 1
slurmd -D >"$work/log/slurmd.log" 2>&1 &
pids+=($!)
for _ in $(seq 60); do
  [[ $(sinfo -h -N -o %T 2>/dev/null) == idle ]] && break
  sleep 0.5
done
[[ $(sinfo -h -N -o %T 2>/dev/null) == idle ]] || fail "the Slurm node did not become idle: $(sinfo -N 2>&1)"
log "Slurm $(sinfo --version | cut -d' ' -f2) is up on $node with $(nproc) CPUs ($(($(date +%s) - start)) s)"

# --- The study: the array and the dependent merge-and-report job ------------------------------------
"$root/scripts/slurm/submit.sh" --shards "$shards" --device cpu --cpus-per-task 1 --time 30 --harness "$harness" \
  "$work/experiment.ini" "$work/results" | tee "$work/log/submit.log"
array_job=$(sed -n 's/^study array: job \([0-9]*\).*/\1/p' "$work/log/submit.log")
merge_job=$(sed -n 's/.*merge and report: job \([0-9]*\).*/\1/p' "$work/log/submit.log")
[[ -n $array_job && -n $merge_job ]] || fail "submit.sh did not print the job ids"

job_states() { scontrol show job -o "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | sort | uniq -c | xargs; }
deadline=$(($(date +%s) + timeout))
while :; do
  state=$(scontrol show job -o "$merge_job" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
  case $state in
    COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE) break ;;
  esac
  (($(date +%s) < deadline)) || fail "the merge job is still '$state' after $timeout s; array: $(job_states "$array_job")"
  sleep 2
done
log "array job $array_job: $(job_states "$array_job"); merge job $merge_job: $state ($(($(date +%s) - start)) s)"
[[ $(job_states "$array_job") == "$shards COMPLETED" ]] || fail "not every array task completed"
[[ $state == COMPLETED ]] || fail "the merge-and-report job ended $state"
merge_log=$(ls "$work"/results/logs/merge-*.out)
grep -q "experiment 'slurm-study': $trials of $trials trials done" "$merge_log" ||
  fail "the merge did not report every trial done: $(cat "$merge_log")"

# --- Checks -----------------------------------------------------------------------------------------
q() { "$harness" query --db "$1" --format csv "$2" | tail -n +2; }
total=0
for ((i = 0; i < shards; i++)); do
  shard_db=$(printf '%s/results/shards/shard-%03d-of-%03d.db' "$work" "$i" "$shards")
  [[ -f $shard_db ]] || fail "no database of shard $i: $shard_db"
  n=$(q "$shard_db" "SELECT COUNT(*) FROM trials WHERE status = 'done'")
  ((n == trials / shards || n == trials / shards + 1)) || fail "shard $i ran $n trials; a balanced shard runs about $((trials / shards))"
  total=$((total + n))
  q "$shard_db" "SELECT strategy || ' ' || seed FROM trials" >>"$work/shard-trials.txt"
done
((total == trials)) || fail "the shards ran $total trials, not $trials"
[[ $(sort "$work/shard-trials.txt" | uniq -d) == "" ]] || fail "a trial ran in two shards: $(sort "$work/shard-trials.txt" | uniq -d)"

merged=$work/results/study.db
[[ -f $merged ]] || fail "no merged database $merged"
[[ $(q "$merged" "SELECT COUNT(*) FROM trials WHERE status = 'done'") == "$trials" ]] || fail "the merged database lacks done trials"

# The same experiment on one machine, one process, one thread (as each array task ran).
"$harness" run "$work/experiment.ini" --db "$work/reference.db" --device cpu --threads 1 >"$work/log/reference.log" 2>&1 ||
  fail "the reference run failed: $(tail -n 5 "$work/log/reference.log")"
# Every column of every step except the wall times, and every metric, by strategy, seed and step.
columns=$(q "$merged" "SELECT group_concat(name, ' ') FROM pragma_table_info('steps')
                       WHERE name NOT IN ('trial_id', 'step_seconds', 'eval_seconds')")
columns=${columns// /, }
[[ $columns == step,*feature_grad_energy* ]] || fail "could not read the columns of table steps: '$columns'"
values_sql="SELECT strategy, seed, status, $columns FROM step_view ORDER BY strategy, seed, step"
metrics_sql="SELECT t.strategy, t.seed, m.step, m.name, m.value FROM metrics m JOIN trials t ON t.id = m.trial_id
             ORDER BY t.strategy, t.seed, m.step, m.name"
for db in reference merged; do
  file=$work/reference.db
  [[ $db == merged ]] && file=$merged
  { q "$file" "$values_sql"; q "$file" "$metrics_sql"; } >"$work/$db-values.csv"
done
rows=$(wc -l <"$work/reference-values.csv")
((rows >= trials * 25)) || fail "the reference run recorded only $rows rows"
cmp -s "$work/reference-values.csv" "$work/merged-values.csv" ||
  fail "step values differ between the merged and the single-machine database: $(diff "$work/reference-values.csv" "$work/merged-values.csv" | head -n 5)"

"$harness" report --db "$work/reference.db" --out "$work/reference-report" >"$work/log/reference-report.log" 2>&1 ||
  fail "the reference report failed: $(tail -n 5 "$work/log/reference-report.log")"
tables=0
for csv in "$work"/reference-report/*.csv; do
  other=$work/results/report/$(basename "$csv")
  [[ -f $other ]] || fail "the merge job's report lacks $(basename "$csv")"
  cmp -s "$csv" "$other" || fail "report table $(basename "$csv") differs: $(diff "$csv" "$other" | head -n 5)"
  tables=$((tables + 1))
done
((tables >= 3)) || fail "the reference report wrote only $tables tables"

log "PASSED: $shards array tasks and the merge job ran under Slurm; $rows step and metric rows and $tables report" \
    "tables are identical to a single-machine run ($(($(date +%s) - start)) s)"
