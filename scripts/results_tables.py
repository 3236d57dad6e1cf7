#!/usr/bin/env python3
"""Prints the tables of RESULTS.md from the study's databases and the reports' CSV files.

usage: python3 scripts/results_tables.py [A B]   (default: convnet-digits convnet-fmnist59)

First the study's status: for every experiments/repro/*.ini, the seeds and trials done (from its
database, opened read-only, when there is one) and the sum of the done trials' wall times. Then a
summary of MEI+FN against the baseline on every backbone and target (the three claims). Then the
claim tables of A and B, from experiments/repro/NAME/{initial_noise,early_speed,final_accuracy}.csv,
written by `harness report`. Then, for each of A-600 and B-600 whose report exists, the convergence table:
mean test accuracy at steps 150, 300, 450 and 600 over the seeds whose every strategy is done
(read from experiments/repro/NAME.db, opened read-only), and the paired difference at the last
step from that report's final_accuracy.csv. Then, for each other backbone (vgg, resnet) whose
reports exist, one table of the three claims on both targets (ARCH-digits, ARCH-fmnist59), from the
same CSV files, followed by the convergence tables of ARCH-digits-600 and ARCH-fmnist59-600.
Then the dynamics table: for each 150-step experiment with a database, the means of per-step
measurements (test accuracy, zeta, training loss, error energy to the backbone, backbone drift,
feature variance) of he_base, mei and mei_fn at a few steps, over the seeds whose every strategy
is done. Last, for resnet-digits-lambda and resnet-digits-fn once their reports exist: the table of
MEI+FN with initial heads of several sizes (and, in -fn, the baseline's size) beside the baseline,
then one dynamics table of every strategy of both over their 100 steps.
Every number in the tables comes from there.
"""
import configparser
import csv
import sqlite3
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPRO = ROOT / "experiments/repro"
ORDER = ["he_base", "mei_fn", "mei", "zero_head", "warmup", "lp_ft", "xavier", "fixed_orthonormal"]


def read(name, table):
    with open(REPRO / name / f"{table}.csv") as f:
        return {row["strategy"]: row for row in csv.DictReader(f)}


def has_report(name):
    return (REPRO / name / "final_accuracy.csv").exists()


def num(text, scale=1.0, digits=2):
    return "" if text in ("", None) else f"{float(text) * scale:.{digits}f}"


def p(text):
    if text in ("", None):
        return ""
    v = float(text)
    return f"{v:.1e}" if v < 1e-3 else f"{v:.2g}" if v < 0.1 else f"{v:.2f}"


def interval(row, lo, hi, scale=100.0, digits=2):
    return f"[{num(row[lo], scale, digits)}, {num(row[hi], scale, digits)}]"


def energy(text):
    v = float(text)
    return "0" if v == 0 else f"{v:.3g}"


def diff_with_ci(row):
    """The paired difference to the baseline in pp with its 95% CI; empty for the baseline."""
    if row["diff_mean"] == "":
        return ""
    return f"{float(row['diff_mean']) * 100:+.2f} " + interval(row, "diff_ci_low", "diff_ci_high")


def diff_only(row):
    return "" if row["diff_mean"] == "" else f"{float(row['diff_mean']) * 100:+.2f}"


def open_read_only(db_path):
    return sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)


def trials_of(db, name):
    """(seed, strategy, status, wall_seconds) of every trial of experiment `name`."""
    return db.execute("SELECT t.seed, t.strategy, t.status, t.wall_seconds FROM trials t JOIN experiments e "
                      "ON e.id = t.experiment_id WHERE e.name = ?", (name,)).fetchall()


def labels_of(trials):
    """The strategy labels of an experiment's trials, in the order of its file (first seen)."""
    return list(dict.fromkeys(strategy for _, strategy, _, _ in trials))


def complete_seeds(trials):
    """The seeds whose every trial is done, ascending."""
    statuses = {}
    for seed, _, status, _ in trials:
        statuses.setdefault(seed, []).append(status)
    return sorted(seed for seed, v in statuses.items() if all(st == "done" for st in v))


def duration(seconds):
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def status_table():
    """Seeds and trials done per experiment of the study, and the time its trials took."""
    print("Status: seeds with every strategy done, trials done (failed), sum of the done trials' wall times\n")
    print("| experiment | steps | seeds done | trials done | trial time |")
    print("| --- | ---: | --- | --- | --- |")
    for ini in sorted(REPRO.glob("*.ini"), key=lambda f: f.stem):
        config = configparser.ConfigParser(inline_comment_prefixes=("#", ";"))
        config.read(ini)
        name, seeds = config["experiment"]["name"], int(config["experiment"]["seeds"])
        strategies = [s.strip() for s in config["experiment"]["strategies"].split(",")]
        steps, db_path = config["train"]["steps"], ROOT / config["experiment"]["db"]
        done_seeds, done, failed, seconds = 0, 0, 0, 0.0
        if db_path.exists():
            trials = trials_of(open_read_only(db_path), name)
            done_seeds = len(complete_seeds(trials))
            done = sum(status == "done" for _, _, status, _ in trials)
            failed = sum(status == "failed" for _, _, status, _ in trials)
            seconds = sum(wall for _, _, status, wall in trials if status == "done")
        failed_text = f" ({failed} failed)" if failed else ""
        print(f"| `{name}` | {steps} | {done_seeds} of {seeds} | {done} of {seeds * len(strategies)}{failed_text} "
              f"| {duration(seconds) if done else 'not started'} |")


def summary_table():
    """MEI+FN against the baseline on every backbone and target: the three claims in one row each,
    from the reports of ARCH-TARGET (claims 1 and 2) and ARCH-TARGET-600 (claim 3)."""
    print("\nSummary: MEI+FN against he_base. Claim 1: noise % at step 1, he_base -> mei_fn; claim 2: "
          "paired difference in mean accuracy over steps 1-10 (pp) [95% CI], p; claim 3: paired "
          "difference in test accuracy at step 600 (pp) [95% CI], Holm p; n = seeds\n")
    print("| backbone, target | claim 1: noise % | claim 2: early diff. (pp) | p | n "
          "| claim 3: diff. at 600 (pp) | Holm p | n |")
    print("| --- | --- | --- | ---: | ---: | --- | ---: | ---: |")
    for arch in ("convnet", "vgg", "resnet"):
        for target in ("digits", "fmnist59"):
            name = f"{arch}-{target}"
            if not has_report(name):
                continue
            noise, early = read(name, "initial_noise"), read(name, "early_speed")["mei_fn"]
            cells = [f"{num(noise['he_base']['noise_fraction_mean'], 100)} -> "
                     f"{num(noise['mei_fn']['noise_fraction_mean'], 100)}",
                     diff_with_ci(early), p(early["p_paired_t"]), early["n_pairs"]]
            if has_report(f"{name}-600"):
                final = read(f"{name}-600", "final_accuracy")["mei_fn"]
                cells += [diff_with_ci(final), p(final["p_holm"]), final["n_pairs"]]
            else:
                cells += ["not run to the end yet", "", ""]
            print(f"| `{name}` | " + " | ".join(cells) + " |")


def main():
    a, b = sys.argv[1:3] if len(sys.argv) >= 3 else ("convnet-digits", "convnet-fmnist59")
    status_table()
    summary_table()
    strategies = [s for s in ORDER if s in read(a, "initial_noise")]

    print("\nClaim 1 (step 1): noise % [95% CI] and energy reaching the backbone; n = seeds\n")
    print(f"| strategy | {a}: n | noise % | energy | {b}: n | noise % | energy |")
    print("| --- | ---: | --- | --- | ---: | --- | --- |")
    na, nb = read(a, "initial_noise"), read(b, "initial_noise")
    for s in strategies:
        ra, rb = na[s], nb[s]
        cells = []
        for r in (ra, rb):
            noise = num(r["noise_fraction_mean"], 100)
            if float(r["noise_fraction_ci_high"]) >= 5e-5:
                noise += " " + interval(r, "noise_fraction_ci_low", "noise_fraction_ci_high")
            cells += [r["n"], noise, energy(r["feature_grad_energy_mean"])]
        print(f"| {s} | " + " | ".join(cells) + " |")

    def final_acc(r):
        return num(r["final_acc_mean"], 100) + " " + interval(r, "final_acc_ci_low", "final_acc_ci_high")

    paired_table(a, b, strategies, "early_speed",
                 "Claim 2: mean test accuracy over steps 1-10, paired difference to he_base (pp) [95% CI], p",
                 ("acc. %", "diff. (pp)", "p"),
                 lambda r: [num(r["early_acc_mean"], 100), diff_with_ci(r), p(r["p_paired_t"])])
    paired_table(a, b, strategies, "final_accuracy",
                 "Claim 3: test accuracy at the last step [95% CI], paired difference to he_base (pp), Holm p",
                 ("acc. %", "diff. (pp)", "Holm p"),
                 lambda r: [final_acc(r), diff_only(r), p(r["p_holm"])])
    convergence_tables((a, b))
    for arch in ("vgg", "resnet"):
        backbone_table(arch)
        convergence_tables((f"{arch}-digits", f"{arch}-fmnist59"))
    dynamics_table([f"{arch}-{target}" for target in ("digits", "fmnist59") for arch in ("convnet", "vgg", "resnet")])
    head_sizes = [n for n in ("resnet-digits-lambda", "resnet-digits-fn") if has_report(n)]
    for name in head_sizes:
        head_size_table(name)
    if head_sizes:
        dynamics_table(head_sizes, strategies=None, columns=HEAD_DYNAMICS)
    for name in ("modern-convnet-digits-vs-mei_fn", "modern-convnet-digits"):
        if has_report(name):
            recipes_table(name)


def holm(pvalues):
    """Holm-Bonferroni adjusted p-values, {key: p} -> {key: adjusted}."""
    adjusted, running = {}, 0.0
    ordered = sorted(pvalues.items(), key=lambda kv: kv[1])
    for i, (key, value) in enumerate(ordered):
        running = max(running, min(1.0, (len(ordered) - i) * value))
        adjusted[key] = running
    return adjusted


def recipes_table(name):
    """Early speed and final accuracy of every strategy against the report's baseline, paired by
    seed: the report's means, differences, 95% CIs and p-values; Holm over the compared strategies
    (the report applies it to the final table; here also to the early one)."""
    early, final = read(name, "early_speed"), read(name, "final_accuracy")
    base = next(s for s, r in early.items() if not r["diff_mean"])
    others = [s for s in early if s != base]
    early_holm = holm({s: float(early[s]["p_paired_t"]) for s in others})
    pp = lambda x: f"{float(x) * 100:+.2f}"
    print(f"\n{name}: paired against {base} (n = seeds; pp = percentage points)\n")
    print(f"| strategy | n | early acc. % | early diff. (pp) [95% CI] | Holm p | final acc. % | final diff. (pp) [95% CI] | Holm p |")
    print("| --- | ---: | ---: | --- | ---: | ---: | --- | ---: |")
    e, f = early[base], final[base]
    print(f"| {base} | {e['n']} | {num(e['early_acc_mean'], 100, 1)} | | | {num(f['final_acc_mean'], 100, 1)} | | |")
    for s in others:
        e, f = early[s], final[s]
        print(f"| {s} | {e['n']} | {num(e['early_acc_mean'], 100, 1)} | {pp(e['diff_mean'])} [{pp(e['diff_ci_low'])}, "
              f"{pp(e['diff_ci_high'])}] | {early_holm[s]:.2g} | {num(f['final_acc_mean'], 100, 1)} | {pp(f['diff_mean'])} "
              f"[{pp(f['diff_ci_low'])}, {pp(f['diff_ci_high'])}] | {float(f['p_holm']):.2g} |")


def step_means(db, name, strategy, seeds, steps, column):
    """{step: mean of the SQL expression `column` over `seeds`} for one strategy, at the given steps."""
    return dict(db.execute(
        f"SELECT step, avg({column}) FROM step_view WHERE experiment = ? AND strategy = ? "
        f"AND seed IN ({','.join('?' * len(seeds))}) AND step IN ({','.join('?' * len(steps))}) GROUP BY step",
        (name, strategy, *seeds, *steps)).fetchall())


def convergence_tables(names):
    """The convergence table of each NAME-600 experiment whose report exists."""
    for name in (f"{n}-600" for n in names):
        if has_report(name):
            convergence_table(name)


def convergence_table(name, checkpoints=(150, 300, 450, 600)):
    """Mean test accuracy at the checkpoints over complete seeds; paired difference at the end."""
    db = open_read_only(REPRO / f"{name}.db")
    trials = trials_of(db, name)
    seeds = complete_seeds(trials)
    final = read(name, "final_accuracy")
    strategies = [s for s in ORDER if s in labels_of(trials)]
    print(f"\nConvergence ({name}, {len(seeds)} seeds with every strategy done: "
          f"{', '.join(map(str, seeds))}): mean test accuracy %; at step {checkpoints[-1]} the paired "
          f"difference to he_base (pp) [95% CI] and Holm p, from the report\n")
    print("| strategy | " + " | ".join(f"step {c}" for c in checkpoints) + f" | diff. at {checkpoints[-1]} (pp) "
          "[95% CI] | Holm p |")
    print("| --- |" + " ---: |" * len(checkpoints) + " --- | ---: |")
    for s in strategies:
        means = step_means(db, name, s, seeds, checkpoints, "test_acc")
        r = final[s]
        diff = "" if r["diff_mean"] == "" else (
            f"{float(r['diff_mean']) * 100:+.2f} [{float(r['diff_ci_low']) * 100:+.2f}, "
            f"{float(r['diff_ci_high']) * 100:+.2f}] (n = {r['n_pairs']})")
        cells = [num(means.get(c), 100) for c in checkpoints] + [diff, p(r["p_holm"])]
        print(f"| {s} | " + " | ".join(cells) + " |")


DYNAMICS = [  # (column title, steps, SQL of the per-step measurement, format)
    ("test acc. %", (10, 30, 60, 150), "test_acc * 100", "{:.1f}"),
    ("zeta", (30, 60, 150), "zeta", "{:.3f}"),
    ("train loss", (30, 60, 150), "train_loss", "{:.2f}"),
    ("error energy to backbone", (1, 30), "feature_grad_energy", "{:.2g}"),
    ("backbone drift", (1, 30, 150), "backbone_drift", "{:.2f}"),
    ("feature variance", (1, 150), "feature_variance", "{:.3g}"),
]


# The same for the 100-step head-size experiments (resnet-digits-lambda, resnet-digits-fn).
HEAD_DYNAMICS = [
    ("zeta", (10, 30, 60, 100), "zeta", "{:.3f}"),
    ("train loss", (1, 30, 60, 100), "train_loss", "{:.2f}"),
    ("error energy to backbone", (1, 30, 100), "feature_grad_energy", "{:.2g}"),
    ("backbone drift", (30, 60, 100), "backbone_drift", "{:.2f}"),
]


def dynamics_table(names, strategies=("he_base", "mei", "mei_fn"), columns=DYNAMICS):
    """Per-step measurements: means over the complete seeds at a few steps, for the given strategies
    (None: every strategy of the experiment, in the order of its file)."""
    names = [n for n in names if (REPRO / f"{n}.db").exists()]
    print("\nDynamics: mean over the seeds with every strategy done of the per-step measurements "
          "(db/schema.sql) at the steps named in each column, as a / b / c\n")
    print("| experiment (seeds) | strategy | " + " | ".join(
        f"{title} at {', '.join(map(str, steps))}" for title, steps, _, _ in columns) + " |")
    print("| --- | --- |" + " ---: |" * len(columns))
    for name in names:
        db = open_read_only(REPRO / f"{name}.db")
        trials = trials_of(db, name)
        seeds = complete_seeds(trials)
        if not seeds:
            continue
        labels = strategies or labels_of(trials)
        for s in labels:
            cells = []
            for _, steps, column, fmt in columns:
                means = step_means(db, name, s, seeds, steps, column)
                cells.append(" / ".join("" if means.get(t) is None else fmt.format(means[t]) for t in steps))
            print(f"| {name} ({len(seeds)}) | {s} | " + " | ".join(cells) + " |")


def head_size_table(name, steps=(10, 30, 40, 50, 60, 100)):
    """MEI+FN with initial heads of several sizes beside the baseline: the report's paired tables and
    the mean test accuracy at a few steps over the complete seeds (database)."""
    if not has_report(name):
        return
    db = open_read_only(REPRO / f"{name}.db")
    trials = trials_of(db, name)
    seeds = complete_seeds(trials)
    labels = labels_of(trials)
    noise, early = read(name, "initial_noise"), read(name, "early_speed")
    final, target = read(name, "final_accuracy"), read(name, "steps_to_target")
    reached = target["he_base"]["target"]
    print(f"\nInitial head size ({name}, {len(seeds)} seeds with every strategy done): noise % at step 1; "
          "mean accuracy over steps 1-10 and its paired difference to he_base (pp) [95% CI]; mean test "
          f"accuracy % at steps {', '.join(map(str, steps))}; steps to reach {float(reached) * 100:.1f}% "
          "(90% of the baseline's final mean; mean over the seeds that reach it, n never reached); "
          f"at step {steps[-1]} the paired difference to he_base (pp) [95% CI] and Holm p, from the report\n")
    print("| strategy | noise % | early acc. % | early diff. (pp) | acc. % at " + ", ".join(map(str, steps))
          + " | steps to target | final diff. (pp) | Holm p |")
    print("| --- | ---: | ---: | --- | ---: | ---: | --- | ---: |")
    for s in labels:
        means = step_means(db, name, s, seeds, steps, "test_acc")
        t = target[s]
        to_target = num(t["steps_mean"], 1, 1) + (f" ({t['n_never']} never)" if t["n_never"] != "0" else "")
        cells = [num(noise[s]["noise_fraction_mean"], 100), num(early[s]["early_acc_mean"], 100),
                 diff_with_ci(early[s]), " / ".join(num(means.get(c), 100, 1) for c in steps), to_target,
                 diff_with_ci(final[s]), p(final[s]["p_holm"])]
        print(f"| {s} | " + " | ".join(cells) + " |")


def backbone_table(arch):
    """The three claims for one backbone on both targets, one row per strategy."""
    names = [n for n in (f"{arch}-digits", f"{arch}-fmnist59") if has_report(n)]
    if not names:
        return
    noise = {n: read(n, "initial_noise") for n in names}
    early = {n: read(n, "early_speed") for n in names}
    final = {n: read(n, "final_accuracy") for n in names}
    seeds = ", ".join(f"{n}: {final[n]['he_base']['n']}" for n in names)

    def cells_of(n, s):
        e, f = early[n][s], final[n][s]
        return [num(noise[n][s]["noise_fraction_mean"], 100), num(e["early_acc_mean"], 100), diff_with_ci(e),
                num(f["final_acc_mean"], 100), diff_only(f), p(f["p_holm"])]

    side_by_side(names, [s for s in ORDER if s in final[names[0]]],
                 f"`{arch}` (seeds: {seeds}): noise % at step 1; mean accuracy over steps 1-10, paired difference "
                 f"to he_base (pp) [95% CI]; accuracy at the last step and the paired difference (pp), Holm p",
                 ("noise %", "early acc. %", "early diff. (pp)", "final acc. %", "final diff. (pp)", "Holm p"),
                 cells_of)


def paired_table(a, b, strategies, table, title, columns, cells_of):
    """One row per strategy, the same columns for experiment a, then for b, from one report table."""
    rows = {n: read(n, table) for n in (a, b)}
    side_by_side((a, b), strategies, title, columns, lambda n, s: cells_of(rows[n][s]))


def side_by_side(names, strategies, title, columns, cells_of):
    """One row per strategy; the same columns, cells_of(name, strategy), for each experiment in turn."""
    print(f"\n{title}\n")
    print("| strategy | " + " | ".join(f"{n}: {c}" if i == 0 else c for n in names
                                       for i, c in enumerate(columns)) + " |")
    print("| --- |" + " --- |" * (len(columns) * len(names)))
    for s in strategies:
        print(f"| {s} | " + " | ".join(c for n in names for c in cells_of(n, s)) + " |")


if __name__ == "__main__":
    main()
