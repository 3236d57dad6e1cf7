#!/usr/bin/env python3
"""Prints the per-claim tables of RESULTS.md from the reports' CSV files.

usage: python3 scripts/results_tables.py [A B]   (default: convnet-digits convnet-fmnist59)

Reads experiments/repro/NAME/{initial_noise,early_speed,final_accuracy}.csv, written by
`harness report`; every number in the tables comes from there.
"""
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORDER = ["he_base", "mei_fn", "mei", "zero_head", "warmup", "lp_ft", "xavier", "fixed_orthonormal"]


def read(name, table):
    with open(ROOT / "experiments/repro" / name / f"{table}.csv") as f:
        return {row["strategy"]: row for row in csv.DictReader(f)}


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


def main():
    a, b = sys.argv[1:3] if len(sys.argv) >= 3 else ("convnet-digits", "convnet-fmnist59")
    strategies = [s for s in ORDER if s in read(a, "initial_noise")]

    print("Claim 1 (step 1): noise % [95% CI] and energy reaching the backbone; n = seeds\n")
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

    def diff_with_ci(r):
        if r["diff_mean"] == "":
            return ""
        return f"{float(r['diff_mean']) * 100:+.2f} " + interval(r, "diff_ci_low", "diff_ci_high")

    def diff_only(r):
        return "" if r["diff_mean"] == "" else f"{float(r['diff_mean']) * 100:+.2f}"

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


def paired_table(a, b, strategies, table, title, columns, cells_of):
    """One row per strategy, the same three columns for experiment a, then for b."""
    print(f"\n{title}\n")
    print(f"| strategy | {a}: " + " | ".join(columns) + f" | {b}: " + " | ".join(columns) + " |")
    print("| --- |" + " --- |" * (2 * len(columns)))
    ra, rb = read(a, table), read(b, table)
    for s in strategies:
        print(f"| {s} | " + " | ".join(cells_of(ra[s]) + cells_of(rb[s])) + " |")

if __name__ == "__main__":
    main()
