#!/usr/bin/env bash
# Submits a study to Slurm: an array of N shard tasks (study.sbatch) and the merge-and-report job
# (merge_report.sbatch) that starts when every task has succeeded. Prints the two job ids.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

usage() {
  cat <<EOF
usage: scripts/slurm/submit.sh [options] EXPERIMENT.ini RESULTS_DIR [-- harness run options]

Runs the experiment's trials as N shards (harness run --shard I/N), one Slurm array task each with its own
database in RESULTS_DIR/shards/, then merges them into RESULTS_DIR/study.db and writes RESULTS_DIR/report.
RESULTS_DIR, the experiment file, its data and backbone, and the harness build must be on a file system
every node sees.

options:
  --shards N          array tasks = shards [8]
  --device D          cuda | cuda:K | cpu [cuda]; a cuda device asks Slurm for --gres=gpu:G per task
  --gpus-per-task G   G, GPUs per array task when the device is cuda [1]
  --cpus-per-task C   CPUs per array task; harness run uses them as --threads [4]
  --time T            time limit of each array task [24:00:00]
  --partition P       partition of both jobs [the cluster's default]
  --harness PATH      harness binary [$root/build/bin/harness]
  --report-args "A"   options for harness report, e.g. "--baseline he_base" [none]
  --merge-anyway      start the merge when every task has ended, even if some failed (afterany)
                      instead of only when all succeeded (afterok)
  --sbatch-arg ARG    one more sbatch option for both jobs, e.g. --sbatch-arg --account=proj (repeatable)
  -h, --help          this help
EOF
}

shards=8
device=cuda
gpus=1
cpus=4
time_limit=24:00:00
partition=
harness=$root/build/bin/harness
report_args=
dependency=afterok
extra=()
positional=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --shards) shards=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --gpus-per-task) gpus=$2; shift 2 ;;
    --cpus-per-task) cpus=$2; shift 2 ;;
    --time) time_limit=$2; shift 2 ;;
    --partition) partition=$2; shift 2 ;;
    --harness) harness=$2; shift 2 ;;
    --report-args) report_args=$2; shift 2 ;;
    --merge-anyway) dependency=afterany; shift ;;
    --sbatch-arg) extra+=("$2"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    -*) echo "submit.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) positional+=("$1"); shift ;;
  esac
done
run_args=("$@")
if [[ ${#positional[@]} -ne 2 ]]; then
  usage >&2
  exit 2
fi
if ! [[ $shards =~ ^[1-9][0-9]*$ ]]; then
  echo "submit.sh: --shards must be a positive integer, got '$shards'" >&2
  exit 2
fi
experiment=$(realpath "${positional[0]}")
results=$(realpath -m "${positional[1]}")
harness=$(realpath "$harness")
[[ -f $experiment ]] || { echo "submit.sh: no experiment file $experiment" >&2; exit 2; }
[[ -x $harness ]] || { echo "submit.sh: no harness binary $harness (build it, or pass --harness)" >&2; exit 2; }
mkdir -p "$results/logs" "$results/shards"

common=("${extra[@]}")
[[ -n $partition ]] && common+=(--partition="$partition")
array_opts=(--array="0-$((shards - 1))" --cpus-per-task="$cpus" --time="$time_limit"
            --output="$results/logs/study-%A_%a.out")
[[ $device == cuda* ]] && array_opts+=(--gres="gpu:$gpus")

export HARNESS=$harness HARNESS_SHARDS=$shards HARNESS_DEVICE=$device
array_job=$(sbatch --parsable "${common[@]}" "${array_opts[@]}" "$here/study.sbatch" \
  "$experiment" "$results" "${run_args[@]}")
array_job=${array_job%%;*}
# shellcheck disable=SC2086  # report_args is a list of words
merge_job=$(sbatch --parsable "${common[@]}" --dependency="$dependency:$array_job" --kill-on-invalid-dep=yes \
  --output="$results/logs/merge-%j.out" "$here/merge_report.sbatch" "$results" "$shards" $report_args)
merge_job=${merge_job%%;*}

echo "study array: job $array_job ($shards tasks, device $device); merge and report: job $merge_job"
echo "watch: squeue -j $array_job,$merge_job    logs: $results/logs/"
echo "result: $results/study.db and $results/report/report.html"
