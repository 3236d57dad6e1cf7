#!/usr/bin/env bash
# The main job: set up, build, pretrain convnet on Fashion-MNIST, fine-tune it on
# the real MNIST digits with he_base, warmup, mei and mei_fn over 8 paired seeds,
# and write the report. Reruns reuse the backbone and every finished trial.
# Two worker processes of one thread each: on 2 cores they train ~20% more images
# per second than one process with two threads (small convolutions scale poorly).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${HARNESS_BUILD_DIR:-$root/build}
cd "$root"
start=$(date +%s)

"$root/scripts/setup.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" --target harness all_strategies

harness="$build/bin/harness"
"$harness" pretrain --arch convnet --dataset fashion-mnist --epochs 2 --batch-size 256 --lr 1e-3 --seed 0 \
  --out results/backbones/convnet-fashion-mnist.pt
status=0
"$harness" run experiments/main.ini --workers 2 || status=$?
"$harness" report --db results/main.db --experiment main --baseline he_base --out results/main-report

echo
echo "main job finished in $(( $(date +%s) - start )) s"
echo "report: $root/results/main-report/report.html (and report.md beside it)"
exit $status
