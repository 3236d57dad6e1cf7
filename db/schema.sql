-- The results database of the harness: the documented schema.
-- Every column carries a comment: its meaning and unit. The schema version is
-- stored in `PRAGMA user_version`. A read-write open migrates an older database forward
-- (db/migrations.cpp: one transaction per version step); a read-only open reads an older one
-- as it is (its readers check for the columns added since); a newer version is refused.
-- Times are UTC ISO-8601 text ('2026-11-22T07:41:03Z'); durations are seconds.
-- schema_version: 2

-- One row per experiment (a named experiment file run against this database).
CREATE TABLE IF NOT EXISTS experiments (
  id              INTEGER PRIMARY KEY,   -- experiment id
  name            TEXT NOT NULL UNIQUE,  -- experiment name from [experiment] name
  config_text     TEXT NOT NULL,         -- the resolved configuration (INI text) the trials ran with
  config_hash     TEXT NOT NULL,         -- hash of config_text; a rerun with a different config is refused
  created_at      TEXT NOT NULL,         -- when the experiment was first recorded (UTC)
  harness_version TEXT NOT NULL,         -- version of the harness that created it
  git_revision    TEXT NOT NULL,         -- git revision of the harness build ('unknown' outside git)
  torch_version   TEXT NOT NULL,         -- LibTorch version, e.g. '1.13.0'
  host            TEXT NOT NULL,         -- host name of the machine that created it
  device          TEXT NOT NULL,         -- device the trials ran on: 'cpu', 'cuda:0', ...; a deterministic CUDA run adds '; CUBLAS_WORKSPACE_CONFIG=:4096:8'
  deterministic   INTEGER NOT NULL       -- 1 if deterministic algorithms were requested, else 0
);

-- One row per strategy plugin file used by any trial.
CREATE TABLE IF NOT EXISTS plugins (
  id        INTEGER PRIMARY KEY,  -- plugin id
  name      TEXT NOT NULL,        -- strategy name the plugin declares
  version   TEXT NOT NULL,        -- strategy version the plugin declares
  file_path TEXT NOT NULL,        -- path of the shared library when first recorded
  file_hash TEXT NOT NULL,        -- SHA-1 of the shared library file (hex)
  UNIQUE (name, version, file_hash)
);

-- One row per trial: (experiment, strategy, seed). Same seed = same backbone,
-- batch order and evaluation set for every strategy (the paired design).
CREATE TABLE IF NOT EXISTS trials (
  id            INTEGER PRIMARY KEY,                    -- trial id
  experiment_id INTEGER NOT NULL REFERENCES experiments(id),
  strategy      TEXT NOT NULL,                          -- strategy label in the experiment (usually the plugin name)
  plugin_id     INTEGER REFERENCES plugins(id),         -- plugin that ran it (NULL until claimed)
  seed          INTEGER NOT NULL,                       -- seed of the trial; pairs trials across strategies
  params_json   TEXT NOT NULL DEFAULT '{}',             -- resolved strategy parameters, JSON object of strings
  status        TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'running', 'done', 'failed')),  -- trial state
  error         TEXT,                                   -- why a failed trial failed (NULL otherwise)
  worker        TEXT,                                   -- host:pid of the process that claimed it last
  attempts      INTEGER NOT NULL DEFAULT 0,             -- how many times it was claimed
  started_at    TEXT,                                   -- when the last attempt started (UTC)
  finished_at   TEXT,                                   -- when it finished or failed (UTC)
  wall_seconds  REAL,                                   -- wall time of the last attempt (s)
  planned_steps INTEGER NOT NULL,                       -- training steps the trial runs
  UNIQUE (experiment_id, strategy, seed)
);
-- The runner's claim and progress queries filter trials by experiment and status.
CREATE INDEX IF NOT EXISTS trials_by_status ON trials (experiment_id, status);

-- One row per training step of a trial. Measurements follow PROTOCOL.md; the
-- energy terms are those of Eq. 11-12 of the ENTAME paper, on the training
-- batch, before the update.
CREATE TABLE IF NOT EXISTS steps (
  trial_id            INTEGER NOT NULL REFERENCES trials(id),
  step                INTEGER NOT NULL,  -- 1-based step index
  phase               TEXT NOT NULL,     -- 'head' (backbone frozen), 'full' (all train), 'backbone' (head frozen)
  lr                  REAL NOT NULL,     -- learning rate used at this step
  train_loss          REAL NOT NULL,     -- cross-entropy on the training batch (nats)
  train_acc           REAL NOT NULL,     -- accuracy on the training batch, in [0, 1]
  test_acc            REAL,              -- accuracy on the target test split in [0, 1]; NULL when not evaluated
  test_loss           REAL,              -- cross-entropy on the test split (nats); NULL when not evaluated
  zeta                REAL NOT NULL,     -- E_N[sum_j yhat_j^2]: energy of the estimates; infimum 1/C
  label_energy        REAL NOT NULL,     -- E_N[y y^T]: 1 for one-hot labels
  cross_energy        REAL NOT NULL,     -- 2 E_N[yhat_t], t the true class
  phi                 REAL NOT NULL,     -- zeta + label_energy - cross_energy: total error energy, in [0, 2]
  noise_fraction      REAL NOT NULL,     -- (zeta - 1/C) / phi: share of error energy above the maximum-entropy floor
  feature_grad_energy REAL NOT NULL,     -- N^2 E_N[||dL/dX^L||^2]: error energy reaching the backbone (Eq. 8)
  feature_variance    REAL NOT NULL,     -- mean over the K features of the batch variance of X^L
  backbone_drift      REAL NOT NULL,     -- ||theta_backbone - theta_pretrained||_2 after the step
  step_seconds        REAL NOT NULL,     -- wall time of the training step, excluding evaluation (s)
  eval_seconds        REAL,              -- wall time of the evaluation, test and validation splits (s); NULL when not evaluated
  -- Added in schema version 2, at the end so that a migrated database has the columns of a new one:
  val_acc             REAL,              -- accuracy on the validation split in [0, 1] ([data] validation_fraction); NULL when not evaluated or without a validation split
  val_loss            REAL,              -- cross-entropy on the validation split (nats); NULL when not evaluated or without a validation split
  PRIMARY KEY (trial_id, step)
) WITHOUT ROWID;

-- Extra per-step values a strategy plugin reports (Head::metrics()).
CREATE TABLE IF NOT EXISTS metrics (
  trial_id INTEGER NOT NULL REFERENCES trials(id),
  step     INTEGER NOT NULL,  -- 1-based step index
  name     TEXT NOT NULL,     -- metric name as the plugin reports it
  value    REAL NOT NULL,     -- metric value (unit defined by the plugin)
  PRIMARY KEY (trial_id, step, name)
) WITHOUT ROWID;

-- Convenience view: every step with its experiment, strategy and seed.
CREATE VIEW IF NOT EXISTS step_view AS
  SELECT e.name AS experiment, t.strategy, t.seed, t.status, s.*
  FROM steps s
  JOIN trials t ON t.id = s.trial_id
  JOIN experiments e ON e.id = t.experiment_id;
