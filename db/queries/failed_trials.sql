-- Failed trials and why they failed.
-- Answers: which trials did not finish, how often were they attempted, on which
-- worker, and with what error? (`harness run` reruns pending and killed trials;
-- failed ones stay failed until reset.)
-- Columns: experiment, strategy, seed, trial_id, attempts, worker, finished_at, steps_written, error.
-- Run: harness query --db results/main.db --file db/queries/failed_trials.sql
SELECT e.name   AS experiment,
       t.strategy,
       t.seed,
       t.id     AS trial_id,
       t.attempts,
       t.worker,
       t.finished_at,
       (SELECT count(*) FROM steps WHERE trial_id = t.id) AS steps_written,
       t.error
FROM trials t
JOIN experiments e ON e.id = t.experiment_id
WHERE t.status = 'failed'
ORDER BY e.name, t.seed, t.strategy;
