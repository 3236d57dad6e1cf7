#!/usr/bin/env bash
# The main job on the GPU, end to end (ctest gpu_main_study, label gpu): pretrain convnet on
# Fashion-MNIST, run experiments/main.ini (8 seeds x 4 strategies) with --device cuda and
# deterministic algorithms into a fresh database, write the report, and check it: every trial
# done, MEI+FN ahead of the baseline early, the cuBLAS workspace recorded. Exits 77 (skipped) without a GPU or the data.
set -euo pipefail
harness=$1
out=${HARNESS_GPU_OUT:-results/gpu}
fashion=${HARNESS_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then echo "no GPU: skipped"; exit 77; fi
if [[ ! -f data/mnist-digits/9.json || ! -d $fashion ]]; then echo "data missing: skipped"; exit 77; fi
mkdir -p "$out"
rm -f "$out"/main.db*
start=$(date +%s)
"$harness" pretrain --arch convnet --dataset fashion-mnist --data-path "$fashion" --epochs 2 --batch-size 256 \
  --lr 1e-3 --seed 0 --device cuda --out "$out/convnet-fashion-mnist.pt" --force
"$harness" run experiments/main.ini --device cuda --experiment.db "$out/main.db" \
  --backbone.checkpoint "$out/convnet-fashion-mnist.pt"
"$harness" report --db "$out/main.db" --experiment main --baseline he_base --out "$out/main-report"
echo "gpu main study: $(( $(date +%s) - start )) s"
done=$("$harness" query --db "$out/main.db" --format csv \
  "SELECT count(*) FROM trials WHERE status = 'done'" | tail -n 1)
[[ $done == 32 ]] || { echo "expected 32 trials done, found $done"; exit 1; }
"$harness" query --db "$out/main.db" --format table \
  "SELECT strategy, round(avg(test_acc), 4) AS early_acc, round(avg(step_seconds) * 1000, 2) AS step_ms
   FROM step_view WHERE step <= 10 GROUP BY strategy ORDER BY strategy"
ahead=$("$harness" query --db "$out/main.db" --format csv \
  "SELECT (SELECT avg(test_acc) FROM step_view WHERE strategy = 'mei_fn' AND step <= 10) >
          (SELECT avg(test_acc) FROM step_view WHERE strategy = 'he_base' AND step <= 10)" | tail -n 1)
[[ $ahead == 1 ]] || { echo "MEI+FN is not ahead of the baseline over steps 1-10"; exit 1; }
device=$("$harness" query --db "$out/main.db" --format csv "SELECT device FROM experiments WHERE name = 'main'" | tail -n 1)
echo "recorded device: $device"
[[ $device == cuda:0\;\ CUBLAS_WORKSPACE_CONFIG=:4096:8 ]] || { echo "expected the cuBLAS workspace in the record"; exit 1; }
