"""scipy's answers for the statistics cases stats_test.cpp generates.

Usage: /usr/bin/python3 scipy_reference.py IN.json OUT.json
Exit status 3 (with a message on stderr) when scipy cannot be imported.
Undefined results (NaN, inf, scipy refusing the input) are written as null.
"""
import json
import math
import sys
import warnings

try:
    import numpy as np
    import scipy
    from scipy import special, stats
except ImportError as e:  # the C++ test turns this into a failure naming the fix
    sys.stderr.write(f"scipy is not available to {sys.executable}: {e}; run scripts/setup.sh\n")
    sys.exit(3)

warnings.simplefilter("ignore")


def num(v):
    v = float(v)
    return v if math.isfinite(v) else None


def t_ppf(p, df):
    """Student t quantile to full double precision.

    scipy 1.10's t.ppf (cdflib's stdtrit) is accurate to only ~4e-9 relative
    (t_{0.975, 40}: 2.0210753829953 against 2.0210753903063 from mpmath), too coarse
    for a 1e-9 comparison; Newton steps on scipy's own t.cdf (stdtr, accurate)
    polish it. stats_test.cpp still checks the raw t.interval to 1e-9 absolute.
    """
    q = stats.t.ppf(p, df)
    for _ in range(3):
        q -= (special.stdtr(df, q) - p) / stats.t.pdf(q, df)
    return q


def t_interval(mean, sd, n, df):
    if n < 2 or not (sd > 0):
        return None
    half = t_ppf(0.975, df) * sd / math.sqrt(n)
    return [num(mean - half), num(mean + half)]


def t_interval_raw(mean, sd, n, df):
    if n < 2 or not (sd > 0):
        return None
    lo, hi = stats.t.interval(0.95, df, loc=mean, scale=sd / math.sqrt(n))
    return [num(lo), num(hi)]


def mean_ci(case):
    x = np.asarray(case["x"], dtype=float)
    n = len(x)
    m = float(np.mean(x))
    sd = float(np.std(x, ddof=1)) if n > 1 else float("nan")
    return {"mean": m, "ci": t_interval(m, sd, n, n - 1), "ci_raw": t_interval_raw(m, sd, n, n - 1)}


def paired(case):
    x = np.asarray(case["x"], dtype=float)
    y = np.asarray(case["y"], dtype=float)
    d = x - y
    n = len(d)
    out = {"mean_diff": float(np.mean(d))}
    res = stats.ttest_rel(x, y)
    out["t"] = num(res.statistic)
    out["p"] = num(res.pvalue)
    sd = float(np.std(d, ddof=1))
    if not (sd > 0):  # scipy says t = +-inf, p = 0 (or nan); the spec calls it undefined
        out["t"] = out["p"] = None
    out["ci"] = t_interval(float(np.mean(d)), sd, n, n - 1)
    out["ci_raw"] = t_interval_raw(float(np.mean(d)), sd, n, n - 1)
    out["d_z"] = num(np.mean(d) / sd) if sd > 0 else None
    # Exact distribution only without zeros and ties (scipy >= 1.11's rule; 1.10's
    # "auto" would take the exact branch with ties too), else the normal approximation.
    nz = d[d != 0]
    ties = len(np.unique(np.abs(nz))) != len(nz)
    method = "exact" if (len(nz) == n and not ties and n <= 50) else "approx"
    out["wilcoxon_method"] = method
    try:
        w = stats.wilcoxon(x, y, method=method)
        out["w_stat"] = num(w.statistic)
        out["w_p"] = num(w.pvalue)
    except ValueError:
        out["w_stat"] = None
        out["w_p"] = None
    if method == "exact":  # without ties, the defaults must agree with the explicit choice
        w_auto = stats.wilcoxon(x, y)
        out["w_p_auto"] = num(w_auto.pvalue)
    return out


def wilcoxon_exact_differences(d):
    """Wilcoxon on the differences d with the method rule of paired() below."""
    n = len(d)
    nz = d[d != 0]
    ties = len(np.unique(np.abs(nz))) != len(nz)
    method = "exact" if (len(nz) == n and not ties and n <= 50) else "approx"
    out = {"wilcoxon_method": method}
    try:
        w = stats.wilcoxon(d, method=method)
        out["w_stat"] = num(w.statistic)
        out["w_p"] = num(w.pvalue)
    except ValueError:
        out["w_stat"] = None
        out["w_p"] = None
    return out


def wilcoxon_near_ties(case):
    """Accuracies in decimal steps: the differences as exact arithmetic gives them (10 decimals)."""
    x = np.asarray(case["x"], dtype=float)
    y = np.asarray(case["y"], dtype=float)
    return wilcoxon_exact_differences(np.round(x - y, 10))


def tost(case):
    """Paired TOST from two one-sided one-sample t-tests on the differences (scipy's alternative=)."""
    d = np.asarray(case["x"], dtype=float) - np.asarray(case["y"], dtype=float)
    margin = case["margin"]
    n = len(d)
    sd = float(np.std(d, ddof=1))
    if not (sd > 0):
        return {"p_lower": None, "p_upper": None, "p": None, "ci90": None}
    lower = stats.ttest_1samp(d, -margin, alternative="greater")
    upper = stats.ttest_1samp(d, margin, alternative="less")
    m = float(np.mean(d))
    half = t_ppf(0.95, n - 1) * sd / math.sqrt(n)
    return {"t_lower": num(lower.statistic), "t_upper": num(upper.statistic),
            "p_lower": num(lower.pvalue), "p_upper": num(upper.pvalue),
            "p": num(max(lower.pvalue, upper.pvalue)), "ci90": [num(m - half), num(m + half)]}


class MT19937_64:
    """The 64-bit Mersenne Twister (std::mt19937_64), written from its published constants."""

    def __init__(self, seed):
        self.mt = [0] * 312
        self.mt[0] = seed & 0xFFFFFFFFFFFFFFFF
        for i in range(1, 312):
            prev = self.mt[i - 1]
            self.mt[i] = (6364136223846793005 * (prev ^ (prev >> 62)) + i) & 0xFFFFFFFFFFFFFFFF
        self.index = 312

    def __call__(self):
        if self.index >= 312:
            for i in range(312):
                x = (self.mt[i] & 0xFFFFFFFF80000000) | (self.mt[(i + 1) % 312] & 0x7FFFFFFF)
                xa = x >> 1
                if x & 1:
                    xa ^= 0xB5026F5AA96619E9
                self.mt[i] = self.mt[(i + 156) % 312] ^ xa
            self.index = 0
        y = self.mt[self.index]
        self.index += 1
        y ^= (y >> 29) & 0x5555555555555555
        y ^= (y << 17) & 0x71D67FFFEDA60000
        y ^= (y << 37) & 0xFFF7EEE000000000
        y ^= y >> 43
        return y & 0xFFFFFFFFFFFFFFFF


def lemire(gen, n):
    m = gen() * n
    low = m & 0xFFFFFFFFFFFFFFFF
    if low < n:
        threshold = (2**64 - n) % n
        while low < threshold:
            m = gen() * n
            low = m & 0xFFFFFFFFFFFFFFFF
    return m >> 64


def aggregate(case):
    """rliable's aggregates on paired strata: IQM by scipy's trim_mean, probability of improvement
    by scipy's Mann-Whitney U, stratified percentile bootstrap by the published mt19937_64."""
    strata = [[(float(a), float(b)) for a, b in st] for st in case["strata"]]
    d = [a - b for st in strata for a, b in st]

    def iqm(sts):
        return float(stats.trim_mean([a - b for st in sts for a, b in st], 0.25))

    def poi(sts):
        vals = []
        for st in sts:
            x = [a for a, _ in st]
            y = [b for _, b in st]
            u = stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic").statistic
            vals.append(u / (len(x) * len(y)))
        return float(np.mean(vals))

    out = {"iqm": iqm(strata), "poi": poi(strata), "trim_mean_flat": float(stats.trim_mean(d, 0.25))}
    resamples = case["resamples"]
    for name, fn in (("iqm", iqm), ("poi", poi)):
        gen = MT19937_64(case["seed"])
        values = []
        for _ in range(resamples):
            res = [[st[lemire(gen, len(st))] for _ in range(len(st))] for st in strata]
            values.append(fn(res))
        out[name + "_ci"] = [float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))]
    return out


def welch(case):
    x = np.asarray(case["x"], dtype=float)
    y = np.asarray(case["y"], dtype=float)
    res = stats.ttest_ind(x, y, equal_var=False)
    ax = np.var(x, ddof=1) / len(x)
    ay = np.var(y, ddof=1) / len(y)
    df = (ax + ay) ** 2 / (ax**2 / (len(x) - 1) + ay**2 / (len(y) - 1))
    diff = float(np.mean(x) - np.mean(y))
    se = math.sqrt(ax + ay)
    lo, hi = stats.t.interval(0.95, df, loc=diff, scale=se)
    half = t_ppf(0.975, df) * se
    return {"t": num(res.statistic), "p": num(res.pvalue), "df": num(df),
            "ci": [num(diff - half), num(diff + half)], "ci_raw": [num(lo), num(hi)]}


def holm(case):
    # Written independently of the C++: adjusted p_(i) = max_{j <= i} min(1, (m - j) p_(j)).
    p = case["p"]
    defined = [i for i, v in enumerate(p) if v is not None]
    m = len(defined)
    order = sorted(defined, key=lambda i: p[i])
    adj = [None] * len(p)
    for pos, i in enumerate(order):
        adj[i] = max(min(1.0, (m - j) * p[order[j]]) for j in range(pos + 1))
    return {"adjusted": adj}


def power(case):
    d = abs(case["d_z"])
    ns = np.arange(2, 5001)
    df = ns - 1
    tc = t_ppf(0.975, df)
    nc = d * np.sqrt(ns)
    pw = stats.nct.sf(tc, df, nc) + stats.nct.cdf(-tc, df, nc)
    reach = np.nonzero(pw >= 0.8)[0]
    req = int(ns[reach[0]]) if len(reach) else None
    return {"n_required": req, "power_at_required": num(pw[reach[0]]) if len(reach) else None,
            "power_at_n": [num(pw[n - 2]) for n in case["n"]]}


def quantiles(case):
    x = np.asarray(case["x"], dtype=float)
    return {"q": [float(np.percentile(x, 100 * q)) for q in case["q"]]}


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    out = {
        "scipy_version": scipy.__version__,
        "mean_ci": [mean_ci(c) for c in cases["mean_ci"]],
        "paired": [paired(c) for c in cases["paired"]],
        "welch": [welch(c) for c in cases["welch"]],
        "tost": [tost(c) for c in cases.get("tost", [])],
        "wilcoxon_near_ties": [wilcoxon_near_ties(c) for c in cases.get("wilcoxon_near_ties", [])],
        "aggregate": [aggregate(c) for c in cases.get("aggregate", [])],
        "holm": [holm(c) for c in cases["holm"]],
        "power": [power(c) for c in cases["power"]],
        "quantile": [quantiles(c) for c in cases["quantile"]],
    }
    with open(sys.argv[2], "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
