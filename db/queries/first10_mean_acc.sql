-- Mean test accuracy over the first 10 steps, per strategy and seed (the paper's Table 3 input).
-- Answers: how fast does each strategy start? One value per (strategy, seed): the
-- seeds pair the strategies, so differences to a baseline can be paired-tested.
-- Columns: experiment, strategy, seed, evaluated_steps (<= 10), mean_test_acc_first10.
-- Run: harness query --db results/main.db --file db/queries/first10_mean_acc.sql
SELECT experiment,
       strategy,
       seed,
       count(*)      AS evaluated_steps,
       avg(test_acc) AS mean_test_acc_first10
FROM step_view
WHERE status = 'done' AND step <= 10 AND test_acc IS NOT NULL
GROUP BY experiment, strategy, seed
ORDER BY experiment, seed, strategy;
