#!/usr/bin/env bash
# The study reports behind RESULTS.md's tables: one `harness report --study` per study file of
# experiments/repro/, each written into experiments/repro/<study>-study*/ (the databases are opened
# read-only). Every table of RESULTS.md names the command below that printed it.
#
# usage: bash scripts/study_reports.sh [HARNESS]     (default: build/bin/harness)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
harness=${1:-$root/build/bin/harness}
cd "$root"
r=experiments/repro

"$harness" report --study $r/paper.study --title "ENTAME reproduction, 150 steps" \
  --dynamics test_acc@10,30,60,150 --dynamics zeta@30,60,150 --dynamics train_loss@30,60,150 \
  --dynamics feature_grad_energy@1,30 --dynamics backbone_drift@1,30,150 --dynamics feature_variance@1,150 \
  --dynamics-strategies he_base,mei,mei_fn --out $r/paper-study
"$harness" report --study $r/paper-600.study --title "ENTAME reproduction, 600 steps" \
  --at-steps 150,300,450,600 --out $r/paper-600-study
"$harness" report --study $r/heads.study --title "The initial head's size, 100 steps" \
  --at-steps 10,30,40,50,60,100 --dynamics zeta@10,30,60,100 --dynamics train_loss@1,30,60,100 \
  --dynamics feature_grad_energy@1,30,100 --dynamics backbone_drift@30,60,100 --out $r/heads-study
"$harness" report --study $r/modern.study --title "Today's recipes" --at-steps 30,150,300,450,600 \
  --out $r/modern-study
"$harness" report --study $r/modern.study --title "Today's recipes against MEI+FN" --at-steps 30,150,300,450,600 \
  --baseline mei_fn --equivalence-margin 1 --out $r/modern-study-vs-mei_fn
