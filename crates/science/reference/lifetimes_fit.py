#!/usr/bin/env python3
"""Fit `lifetimes`' BetaGeoFitter and GammaGammaFitter to one CSV file and print one JSON line.

The Rust benchmark `cargo bench -p rapport-science --bench fit` writes each generated
dataset to a CSV file (header `frequency,recency,T,monetary_value`, one customer a line,
`monetary_value` the mean repeat spend, 0 without repeat purchases) and runs this script on
it beside its own fit. Default settings on both fitters, as a user of `lifetimes` would run
them; the Gamma-Gamma fit sees repeat customers only. Only the two fits are timed, not
imports or reading the file.

Exit status 3 with a message on stderr when `lifetimes` cannot be imported, 4 when one of
its fits reports that it did not converge.
Usage: python3 lifetimes_fit.py customers.csv
"""

import json
import sys
import time


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: lifetimes_fit.py customers.csv")
    try:
        import pandas as pd
        from lifetimes import BetaGeoFitter, GammaGammaFitter
    except ImportError as e:
        print(f"lifetimes is not importable: {e}", file=sys.stderr)
        sys.exit(3)
    from lifetimes.utils import ConvergenceError

    data = pd.read_csv(sys.argv[1])
    repeat = data[data["frequency"] > 0]
    try:
        start = time.perf_counter()
        bgf = BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"])
        bg_seconds = time.perf_counter() - start
        start = time.perf_counter()
        ggf = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
        gg_seconds = time.perf_counter() - start
    except ConvergenceError as e:
        first_line = str(e).strip().splitlines()[0]
        print(f"lifetimes did not converge: {first_line}", file=sys.stderr)
        sys.exit(4)
    result = {k: float(bgf.params_[k]) for k in ["r", "alpha", "a", "b"]}
    result.update({k: float(ggf.params_[k]) for k in ["p", "q", "v"]})
    result["bgnbd_seconds"] = bg_seconds
    result["gamma_gamma_seconds"] = gg_seconds
    print(json.dumps(result))


if __name__ == "__main__":
    main()
