#!/usr/bin/env python3
"""Time the BG/NBD and Gamma-Gamma fits of `lifetimes` against this crate's on the same data.

For each size (10k, 100k and 1M customers by default) the script simulates customers from the
BG/NBD and Gamma-Gamma stories with a fixed seed, writes them to a CSV file, fits them with
`lifetimes` (BetaGeoFitter then GammaGammaFitter, default settings, in a child process so a
slow fit can be stopped), runs the crate's `fit_file` example (built in release) on the same
file, and prints a table: customers, Python seconds, Rust seconds, their ratio, and whether
all seven parameters agree to 4 significant digits (relative difference at most 1e-4).
Only the fits are timed on either side. A `lifetimes` fit that takes longer than the limit
(10 minutes by default) is reported as "reference too slow".

Run from the repository root:
    python3 crates/science/reference/bench_vs_lifetimes.py [--sizes 10000,100000,1000000]
Needs: pip install lifetimes, and cargo. CARGO_TARGET_DIR is honoured.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np

CRATE_DIR = pathlib.Path(__file__).resolve().parent.parent
SEED = 20240701
BGNBD = {"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.4}
SPEND = {"p": 6.0, "q": 4.0, "v": 15.0}
AGE_RANGE = (26.0, 78.0)  # weeks
AGREEMENT = 1e-4


def simulate(n, seed):
    """Vectorised BG/NBD and Gamma-Gamma draws: (frequency, recency, T, mean repeat spend)."""
    rng = np.random.default_rng(seed)
    age = rng.uniform(*AGE_RANGE, size=n)
    rate = rng.gamma(BGNBD["r"], 1.0 / BGNBD["alpha"], size=n)
    drop = rng.beta(BGNBD["a"], BGNBD["b"], size=n)
    frequency = np.zeros(n, dtype=np.int64)
    recency = np.zeros(n)
    clock = np.zeros(n)
    active = np.flatnonzero(rate > 0)
    while active.size:
        clock[active] += rng.exponential(1.0, size=active.size) / rate[active]
        bought = active[clock[active] < age[active]]
        frequency[bought] += 1
        recency[bought] = clock[bought]
        survived = bought[rng.random(bought.size) >= drop[bought]]
        active = survived
    nu = rng.gamma(SPEND["q"], 1.0 / SPEND["v"], size=n)
    spend = np.zeros(n)
    repeat = frequency > 0
    # The mean of x Gamma(p, 1/nu) orders is Gamma(p x, 1/(nu x)).
    x = frequency[repeat]
    spend[repeat] = rng.gamma(SPEND["p"] * x, 1.0 / (nu[repeat] * x))
    return frequency, recency, age, spend


def write_csv(path, frequency, recency, age, spend):
    with open(path, "w") as f:
        f.write("frequency,recency,T,monetary_value\n")
        for row in zip(frequency, recency, age, spend):
            f.write("%d,%.6f,%.6f,%.6f\n" % row)


def lifetimes_fit(path):
    """Child process: fit with lifetimes and print parameters and times as JSON."""
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    data = pd.read_csv(path)
    start = time.perf_counter()
    bgf = BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"])
    bg_seconds = time.perf_counter() - start
    repeat = data[data["frequency"] > 0]
    start = time.perf_counter()
    ggf = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    gg_seconds = time.perf_counter() - start
    result = {
        "bgnbd": {k: float(bgf.params_[k]) for k in ["r", "alpha", "a", "b"]},
        "gamma_gamma": {k: float(ggf.params_[k]) for k in ["p", "q", "v"]},
    }
    result["bgnbd"]["seconds"] = bg_seconds
    result["gamma_gamma"]["seconds"] = gg_seconds
    print(json.dumps(result))


def build_example():
    subprocess.run(
        ["cargo", "build", "--quiet", "--release", "-p", "rapport-science", "--example", "fit_file"],
        cwd=CRATE_DIR,
        check=True,
    )
    target = os.environ.get("CARGO_TARGET_DIR")
    if target is None:
        metadata = subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--no-deps"],
            cwd=CRATE_DIR,
            check=True,
            capture_output=True,
            text=True,
        )
        target = json.loads(metadata.stdout)["target_directory"]
    return pathlib.Path(target) / "release" / "examples" / "fit_file"


def worst_difference(rust, python):
    worst = 0.0
    for model, keys in [("bgnbd", ["r", "alpha", "a", "b"]), ("gamma_gamma", ["p", "q", "v"])]:
        for k in keys:
            worst = max(worst, abs(rust[model][k] - python[model][k]) / abs(python[model][k]))
    return worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--limit", type=float, default=600.0, help="seconds allowed for lifetimes")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        lifetimes_fit(args.child)
        return

    binary = build_example()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in [int(s) for s in args.sizes.split(",")]:
            path = pathlib.Path(tmp) / f"customers_{n}.csv"
            write_csv(path, *simulate(n, SEED + n))
            rust_run = subprocess.run([str(binary), str(path)], check=True, capture_output=True, text=True)
            rust = json.loads(rust_run.stdout)
            rust_seconds = rust["bgnbd"]["seconds"] + rust["gamma_gamma"]["seconds"]
            try:
                child = subprocess.run(
                    [sys.executable, __file__, "--child", str(path)],
                    check=True,
                    capture_output=True,
                    text=True,
                    timeout=args.limit,
                )
            except subprocess.TimeoutExpired:
                rows.append((n, "reference too slow", f"{rust_seconds:.3f}", "-", "-", "-"))
                print(f"{n}: lifetimes took over {args.limit:.0f} s", file=sys.stderr)
                continue
            python = json.loads(child.stdout.strip().splitlines()[-1])
            python_seconds = python["bgnbd"]["seconds"] + python["gamma_gamma"]["seconds"]
            worst = worst_difference(rust, python)
            rows.append(
                (
                    n,
                    f"{python_seconds:.3f}",
                    f"{rust_seconds:.3f}",
                    f"{python_seconds / rust_seconds:.0f}x",
                    "yes" if worst <= AGREEMENT else "no",
                    f"{worst:.1e}",
                )
            )
            print(f"{n}: lifetimes {python}, rust {rust}", file=sys.stderr)

    header = ("customers", "python s", "rust s", "ratio", "agree 4 sig", "worst rel diff")
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    for row in [header] + rows:
        print("  ".join(str(v).rjust(w) for v, w in zip(row, widths)))


if __name__ == "__main__":
    main()
