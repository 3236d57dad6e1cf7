-- Step-1 noise fraction and feature-gradient energy per strategy (the paper's Table 1 analog).
-- Answers: at the first step, which share of the back-propagated error energy is
-- estimate energy above the maximum-entropy floor ((zeta - 1/C) / phi, PROTOCOL.md),
-- and how much error energy reaches the backbone (N^2 E_N[||dL/dX^L||^2], Eq. 8)?
-- MEI should keep feature_grad_energy near zero. Means over seeds, with min and max.
-- Columns: experiment, strategy, n, mean/min/max_noise_fraction, mean/min/max_feature_grad_energy.
-- Run: harness query --db results/main.db --file db/queries/step1_noise.sql
SELECT experiment,
       strategy,
       count(*)                 AS n,
       avg(noise_fraction)      AS mean_noise_fraction,
       min(noise_fraction)      AS min_noise_fraction,
       max(noise_fraction)      AS max_noise_fraction,
       avg(feature_grad_energy) AS mean_feature_grad_energy,
       min(feature_grad_energy) AS min_feature_grad_energy,
       max(feature_grad_energy) AS max_feature_grad_energy
FROM step_view
WHERE status = 'done' AND step = 1
GROUP BY experiment, strategy
ORDER BY experiment, strategy;
