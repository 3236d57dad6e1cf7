-- Final test accuracy per trial (the paper's Tables 4-6 input).
-- Answers: where does each trial end up? The test accuracy at the last evaluated
-- step (the protocol always evaluates the last step), with the trial's wall time.
-- Columns: experiment, strategy, seed, trial_id, step, final_test_acc, final_test_loss, wall_seconds.
-- Run: harness query --db results/main.db --file db/queries/final_test_acc.sql --format json
SELECT e.name        AS experiment,
       t.strategy,
       t.seed,
       t.id          AS trial_id,
       s.step,
       s.test_acc    AS final_test_acc,
       s.test_loss   AS final_test_loss,
       t.wall_seconds
FROM trials t
JOIN experiments e ON e.id = t.experiment_id
JOIN steps s ON s.trial_id = t.id
WHERE t.status = 'done'
  AND s.step = (SELECT max(step) FROM steps WHERE trial_id = t.id AND test_acc IS NOT NULL)
ORDER BY e.name, t.strategy, t.seed;
