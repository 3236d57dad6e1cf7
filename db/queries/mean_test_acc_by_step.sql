-- Mean test accuracy per strategy and step (the paper's Table 2 / Fig. 1 curves).
-- Answers: how does test accuracy evolve with training steps for each strategy,
-- averaged over the seeds of finished trials? Only evaluated steps appear.
-- Columns: experiment, strategy, step, n (seeds), mean_test_acc, std_test_acc (population).
-- Run: harness query --db results/main.db --file db/queries/mean_test_acc_by_step.sql --format csv
SELECT experiment,
       strategy,
       step,
       count(*)                                                  AS n,
       avg(test_acc)                                             AS mean_test_acc,
       sqrt(max(avg(test_acc * test_acc) - avg(test_acc) * avg(test_acc), 0)) AS std_test_acc
FROM step_view
WHERE status = 'done' AND test_acc IS NOT NULL
GROUP BY experiment, strategy, step
ORDER BY experiment, strategy, step;
