#!/usr/bin/env bash
# The reproduction study (RESULTS.md): pretrains each backbone it needs, runs the experiments of
# experiments/repro/ and writes a report per experiment into experiments/repro/NAME/, then the study
# reports of RESULTS.md's tables (scripts/study_reports.sh).
#
# usage: bash scripts/reproduce.sh [NAME ...]     (default: every experiments/repro/*.ini)
#
# Everything is resumable: a pretrained backbone with the same settings is reused, finished trials
# are kept, an interrupted trial restarts from its first step. HARNESS_WORKERS (default 2) worker
# processes of HARNESS_THREADS threads each (default: cores / workers) share the machine. The
# databases live beside the experiment files.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${HARNESS_BUILD_DIR:-$root/build}
workers=${HARNESS_WORKERS:-2}
threads=${HARNESS_THREADS:-0}
cd "$root"

"$root/scripts/setup.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" --target harness all_strategies
harness="$build/bin/harness"

# Backbones: ARCH-SOURCE.pt, SOURCE = fashion-mnist (all classes) or fashion-mnist-0-4.
# Pretraining uses 2 threads always, so the same file comes out on any 2+-core machine.
# The exact checkpoints a committed study database was recorded with are kept in
# experiments/repro/backbones/ (their SHA-1 is part of the configuration, so a resumed study must
# use the same file); they are restored before anything would be pretrained again.
pretrain() {
  local arch=$1 source=$2 classes=""
  local kept="experiments/repro/backbones/$arch-$source.pt" out="results/backbones/$arch-$source.pt"
  if [[ -f $kept && ! -f $out ]]; then
    mkdir -p results/backbones
    cp "$kept" "$out"
  fi
  [[ $source == fashion-mnist-0-4 ]] && classes="--classes 0-4"
  # shellcheck disable=SC2086
  "$harness" pretrain --arch "$arch" --dataset fashion-mnist $classes --epochs 2 --batch-size 256 --lr 1e-3 \
    --seed 0 --threads 2 --out "results/backbones/$arch-$source.pt"
}

names=("$@")
if ((${#names[@]} == 0)); then
  for f in experiments/repro/*.ini; do names+=("$(basename "$f" .ini)"); done
fi
status=0
for name in "${names[@]}"; do
  ini="experiments/repro/$name.ini"
  [[ -f $ini ]] || { echo "reproduce: no experiment file $ini" >&2; exit 2; }
  checkpoint=$(sed -n 's/^checkpoint = results\/backbones\/\(.*\)\.pt$/\1/p' "$ini")
  arch=${checkpoint%%-*}
  pretrain "$arch" "${checkpoint#*-}"
  start=$(date +%s)
  "$harness" run "$ini" --workers "$workers" --threads "$threads" || status=$?
  echo "reproduce: $name ran for $(( $(date +%s) - start )) s in this call"
  "$harness" report --db "experiments/repro/$name.db" --experiment "$name" --baseline he_base \
    --out "experiments/repro/$name"
done
"$root/scripts/study_reports.sh" "$harness" || status=$?
exit $status
