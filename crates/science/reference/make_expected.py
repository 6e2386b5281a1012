#!/usr/bin/env python3
"""Generate the reference expectations that the rapport-science tests compare against.

Each dataset is simulated from the BG/NBD and Gamma-Gamma generative stories with a fixed
seed, then fitted with the `lifetimes` package (BetaGeoFitter, ModifiedBetaGeoFitter,
ParetoNBDFitter and GammaGammaFitter). The datasets, the fitted parameters, and
per-customer predictions are written as JSON under `../tests/data/`. The Rust tests refit
the same data and require agreement to a relative 1e-4.

Run from anywhere:  python3 crates/science/reference/make_expected.py
Needs: pip install lifetimes  (see README.md beside this file for the versions used).
"""

import contextlib
import io
import json
import pathlib

import autograd
import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter, ParetoNBDFitter
from lifetimes.utils import ConvergenceError

OUT_DIR = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data"

# lifetimes' default stopping tolerance (1e-7 on the gradient of the mean negative
# log-likelihood) leaves parameters loose in the 4th or 5th digit, and its BFGS reports a
# failure ("precision loss") when asked for much less. So each fit is run at the tightest
# tolerance that lifetimes accepts, then polished with Newton steps on lifetimes' own
# likelihood, gradient and Hessian (autograd), until the gradient is below POLISH_GTOL.
FIT_TOLS = [1e-10, 1e-9, 1e-8, 1e-7]
POLISH_GTOL = 1e-12

# lifetimes fits the Pareto/NBD by Nelder-Mead from a random start (numpy's global
# generator, seeded here for repeatability) and offers no gradient, Hessian or standard
# errors, since its likelihood goes through scipy's hyp2f1. So its fit is polished with
# Newton steps on its own likelihood using finite differences (a fourth-order stencil for
# the gradient), and the standard errors written for it come from the finite-difference
# Hessian of that same likelihood at the polished estimate.
PARETO_SEED = 20240601
PARETO_POLISH_GTOL = 1e-7  # on the total (not mean) negative log-likelihood

PREDICTION_T = 10.0
UNCONDITIONAL_T = [1.0, 5.0, 10.0, 52.0]
CLV_MONTHS = 12
CLV_MONTHLY_DISCOUNT = 0.01

DATASETS = [
    {
        "name": "typical",
        "description": "500 customers observed 26 to 78 weeks, moderate repeat buying",
        "seed": 20240501,
        "customers": 500,
        "time_unit": "week",
        "periods_per_month": 4.345,
        "age_range": (26.0, 78.0),
        "bgnbd": {"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.4},
        "spend": {"p": 6.0, "q": 4.0, "v": 15.0},
    },
    {
        "name": "few_repeaters",
        "description": "2000 customers observed 4 to 52 weeks, most never buy again",
        "seed": 20240502,
        "customers": 2000,
        "time_unit": "week",
        "periods_per_month": 4.345,
        "age_range": (4.0, 52.0),
        "bgnbd": {"r": 0.12, "alpha": 6.0, "a": 1.3, "b": 1.6},
        "spend": {"p": 3.0, "q": 6.0, "v": 40.0},
    },
    {
        "name": "long_history",
        "description": "300 customers observed 1 to 10 years in days, frequent buyers",
        "seed": 20240503,
        "customers": 300,
        "time_unit": "day",
        "periods_per_month": 30.0,
        "age_range": (365.0, 3650.0),
        "bgnbd": {"r": 0.9, "alpha": 40.0, "a": 0.6, "b": 6.0},
        "spend": {"p": 9.0, "q": 3.5, "v": 250.0},
    },
]


def simulate(spec):
    """Draw (frequency, recency, T, mean repeat spend) per customer."""
    rng = np.random.default_rng(spec["seed"])
    g = spec["bgnbd"]
    s = spec["spend"]
    lo, hi = spec["age_range"]
    rows = []
    for _ in range(spec["customers"]):
        age = round(float(rng.uniform(lo, hi)), 2)
        rate = rng.gamma(g["r"], 1.0 / g["alpha"])
        drop = rng.beta(g["a"], g["b"])
        # Customer-level mean spend is 1/nu with nu ~ Gamma(q, rate v); each order ~ Gamma(p, rate nu).
        nu = rng.gamma(s["q"], 1.0 / s["v"])
        clock = 0.0
        times = []
        while True:
            clock += rng.exponential(1.0 / rate) if rate > 0 else np.inf
            if clock >= age:
                break
            times.append(clock)
            if rng.random() < drop:
                break
        # Times are kept to 1/100 of a period, and a repeat purchase never lands at zero.
        times = sorted({max(round(t, 2), 0.01) for t in times if round(t, 2) <= age})
        frequency = len(times)
        recency = times[-1] if times else 0.0
        if frequency > 0:
            orders = rng.gamma(s["p"], 1.0 / nu, size=frequency)
            spend = round(float(orders.mean()), 2)
            spend = max(spend, 0.01)
        else:
            spend = 0.0
        rows.append((frequency, recency, age, spend))
    return pd.DataFrame(rows, columns=["frequency", "recency", "T", "monetary_value"])


def tight_fit(fitter, fit_args, nll_args):
    """Fit with lifetimes, then Newton-polish the log-parameters on lifetimes' own objective."""
    for tol in FIT_TOLS:
        try:
            # lifetimes prints the optimiser's report when it gives up; that is expected here.
            with contextlib.redirect_stdout(io.StringIO()):
                fitter.fit(*fit_args, tol=tol)
            break
        except ConvergenceError:
            continue
    else:
        raise RuntimeError("lifetimes did not converge at any tolerance")
    nll = fitter._negative_log_likelihood
    scale = getattr(fitter, "_scale", None)
    names = list(fitter.params_.index)
    params = np.array([fitter.params_[k] for k in names], dtype=float)
    if scale is not None:
        params[names.index("alpha")] *= scale
    x = np.log(params)
    grad = autograd.grad(nll)
    hess = autograd.hessian(nll)
    for _ in range(50):
        g = np.asarray(grad(x, *nll_args))
        if np.max(np.abs(g)) < POLISH_GTOL:
            break
        step = np.linalg.solve(np.asarray(hess(x, *nll_args)), g)
        f0 = nll(x, *nll_args)
        shrink = 1.0
        while nll(x - shrink * step, *nll_args) > f0 + 1e-15 and shrink > 1e-6:
            shrink *= 0.5
        x = x - shrink * step
    gnorm = float(np.max(np.abs(np.asarray(grad(x, *nll_args)))))
    if gnorm > 1e-9:
        raise RuntimeError(f"Newton polish stalled at gradient {gnorm}")
    params = np.exp(x)
    fitter._negative_log_likelihood_ = float(nll(x, *nll_args))
    fitter._hessian_ = np.asarray(hess(x, *nll_args))
    if scale is not None:
        params[names.index("alpha")] /= scale
    fitter.params_ = pd.Series(params, index=names)
    fitter.variance_matrix_ = fitter._compute_variance_matrix()
    fitter.standard_errors_ = fitter._compute_standard_errors()
    return gnorm


def fd_gradient(f, x, h=1e-3):
    """Fourth-order central differences."""
    g = np.zeros_like(x)
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (-f(x + 2 * e) + 8 * f(x + e) - 8 * f(x - e) + f(x - 2 * e)) / (12 * h)
    return g


def fd_hessian(f, x, h=1e-3):
    """Central differences of the fourth-order gradient, symmetrised."""
    n = len(x)
    hess = np.zeros((n, n))
    for j in range(n):
        e = np.zeros_like(x)
        e[j] = h
        hess[:, j] = (fd_gradient(f, x + e) - fd_gradient(f, x - e)) / (2 * h)
    return 0.5 * (hess + hess.T)


def tight_pareto_fit(fitter, data):
    """Fit with lifetimes, then Newton-polish ln(params) on its own likelihood."""
    np.random.seed(PARETO_SEED)
    fitter.fit(data["frequency"], data["recency"], data["T"], tol=1e-10, maxiter=20000)
    scale = fitter._scale
    freq = data["frequency"].to_numpy().astype(float)
    args = (
        freq,
        data["recency"].to_numpy() * scale,
        data["T"].to_numpy() * scale,
        np.ones(len(data)),
        0.0,
    )
    names = ["r", "alpha", "s", "beta"]
    params = np.array([fitter.params_[k] for k in names], dtype=float)
    params[1] *= scale
    params[3] *= scale

    def nll(log_params):
        return float(ParetoNBDFitter._negative_log_likelihood(np.exp(log_params), *args))

    x = np.log(params)
    for _ in range(50):
        g = fd_gradient(nll, x)
        if np.max(np.abs(g)) < PARETO_POLISH_GTOL:
            break
        step = np.linalg.solve(fd_hessian(nll, x), g)
        f0 = nll(x)
        shrink = 1.0
        while nll(x - shrink * step) > f0 + 1e-12 and shrink > 1e-6:
            shrink *= 0.5
        x = x - shrink * step
    gnorm = float(np.max(np.abs(fd_gradient(nll, x))))
    if gnorm > 1e-5:
        raise RuntimeError(f"Pareto/NBD Newton polish stalled at gradient {gnorm}")
    params = np.exp(x)
    inverse = np.linalg.inv(fd_hessian(nll, x))
    errors = params * np.sqrt(np.diag(inverse))
    ll = -nll(x) + freq.sum() * np.log(scale)
    for i in (1, 3):
        params[i] /= scale
        errors[i] /= scale
    fitter.params_ = pd.Series(params, index=names)
    return {
        "params": {k: float(v) for k, v in zip(names, params)},
        "standard_errors": {k: float(v) for k, v in zip(names, errors)},
        "log_likelihood": float(ll),
        "gradient_max_abs": gnorm,
    }


def purchase_predictions(fitter, data):
    """P(alive), conditional and unconditional expected purchases, as for BG/NBD."""
    return {
        "p_alive": float_list(
            fitter.conditional_probability_alive(data["frequency"], data["recency"], data["T"])
        ),
        "conditional_expected_purchases": float_list(
            fitter.conditional_expected_number_of_purchases_up_to_time(
                PREDICTION_T, data["frequency"], data["recency"], data["T"]
            )
        ),
        "unconditional_expected_purchases": [
            float(np.squeeze(fitter.expected_number_of_purchases_up_to_time(t))) for t in UNCONDITIONAL_T
        ],
    }


def float_list(values):
    return [float(v) for v in np.asarray(values, dtype=float)]


def build(spec):
    data = simulate(spec)
    bgf = BetaGeoFitter()
    scale = 1.0 / data["T"].max()
    freq = data["frequency"].to_numpy().astype(int)
    ones = np.ones(len(data), dtype=int)
    bg_args = (freq, data["recency"].to_numpy() * scale, data["T"].to_numpy() * scale, ones, 0.0)
    bg_gnorm = tight_fit(bgf, (data["frequency"], data["recency"], data["T"]), bg_args)
    # lifetimes optimises on time divided by max(T); the log-likelihood of the data in its own
    # time unit differs from that by the Jacobian of the rescaling, sum(x) * ln(scale).
    bg_ll = -bgf._negative_log_likelihood_ * len(data) + freq.sum() * np.log(scale)

    mbg = ModifiedBetaGeoFitter()
    mbg_gnorm = tight_fit(mbg, (data["frequency"], data["recency"], data["T"]), bg_args)
    mbg_ll = -mbg._negative_log_likelihood_ * len(data) + freq.sum() * np.log(scale)

    pareto = ParetoNBDFitter()
    pareto_fit = tight_pareto_fit(pareto, data)

    repeat = data[data["frequency"] > 0]
    ggf = GammaGammaFitter()
    gg_args = (
        repeat["frequency"].to_numpy().astype(float),
        repeat["monetary_value"].to_numpy().astype(float),
        np.ones(len(repeat), dtype=int),
        0.0,
    )
    gg_gnorm = tight_fit(ggf, (repeat["frequency"], repeat["monetary_value"]), gg_args)
    gg_ll = -ggf._negative_log_likelihood_ * len(repeat)

    p_alive = bgf.conditional_probability_alive(data["frequency"], data["recency"], data["T"])
    cond = bgf.conditional_expected_number_of_purchases_up_to_time(
        PREDICTION_T, data["frequency"], data["recency"], data["T"]
    )
    profit = ggf.conditional_expected_average_profit(data["frequency"], data["monetary_value"])
    uncond = [float(bgf.expected_number_of_purchases_up_to_time(t)) for t in UNCONDITIONAL_T]

    freq_label = {"week": "W", "day": "D"}[spec["time_unit"]]
    clv = ggf.customer_lifetime_value(
        bgf,
        data["frequency"],
        data["recency"],
        data["T"],
        data["monetary_value"],
        time=CLV_MONTHS,
        discount_rate=CLV_MONTHLY_DISCOUNT,
        freq=freq_label,
    )

    return {
        "name": spec["name"],
        "description": spec["description"],
        "seed": spec["seed"],
        "time_unit": spec["time_unit"],
        "generating_parameters": {"bgnbd": spec["bgnbd"], "gamma_gamma": spec["spend"]},
        "customers": {
            "frequency": [int(v) for v in data["frequency"]],
            "recency": float_list(data["recency"]),
            "T": float_list(data["T"]),
            "monetary_value": float_list(data["monetary_value"]),
        },
        "bgnbd": {
            "params": {k: float(bgf.params_[k]) for k in ["r", "alpha", "a", "b"]},
            "standard_errors": {k: float(bgf.standard_errors_[k]) for k in ["r", "alpha", "a", "b"]},
            "log_likelihood": float(bg_ll),
            "gradient_max_abs": bg_gnorm,
        },
        "mbgnbd": {
            "params": {k: float(mbg.params_[k]) for k in ["r", "alpha", "a", "b"]},
            "standard_errors": {k: float(mbg.standard_errors_[k]) for k in ["r", "alpha", "a", "b"]},
            "log_likelihood": float(mbg_ll),
            "gradient_max_abs": mbg_gnorm,
            "predictions": purchase_predictions(mbg, data),
        },
        "pareto_nbd": {**pareto_fit, "predictions": purchase_predictions(pareto, data)},
        "gamma_gamma": {
            "customers": int(len(repeat)),
            "params": {k: float(ggf.params_[k]) for k in ["p", "q", "v"]},
            "standard_errors": {k: float(ggf.standard_errors_[k]) for k in ["p", "q", "v"]},
            "log_likelihood": float(gg_ll),
            "gradient_max_abs": gg_gnorm,
        },
        "predictions": {
            "t": PREDICTION_T,
            "p_alive": float_list(p_alive),
            "conditional_expected_purchases": float_list(cond),
            "conditional_expected_average_profit": float_list(profit),
        },
        "unconditional_expected_purchases": {"t": UNCONDITIONAL_T, "values": uncond},
        "lifetime_value": {
            "months": CLV_MONTHS,
            "monthly_discount_rate": CLV_MONTHLY_DISCOUNT,
            "periods_per_month": spec["periods_per_month"],
            "values": float_list(clv),
        },
    }


def main():
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for spec in DATASETS:
        result = build(spec)
        path = OUT_DIR / f"{spec['name']}.json"
        path.write_text(json.dumps(result, separators=(",", ":")) + "\n")
        bg = result["bgnbd"]["params"]
        mbg = result["mbgnbd"]["params"]
        pnbd = result["pareto_nbd"]["params"]
        gg = result["gamma_gamma"]["params"]
        repeaters = sum(1 for x in result["customers"]["frequency"] if x > 0)
        print(
            f"{spec['name']}: {len(result['customers']['T'])} customers, {repeaters} repeaters, "
            f"bgnbd {bg}, mbgnbd {mbg}, pareto/nbd {pnbd}, gamma-gamma {gg}, "
            f"{path.stat().st_size} bytes"
        )


if __name__ == "__main__":
    main()
