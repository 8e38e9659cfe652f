"""Slow, independent references for the engine's P(best): the oracle of tests/unit and of
bench/engine_speed.py (scipy, never shipped)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import special, stats


def reference_p_best(alpha: NDArray[np.float64], beta: NDArray[np.float64]) -> NDArray[np.float64]:
    """∫ f_k Π F_j by composite 10-point Gauss–Legendre on panels of sd/4, scipy's betainc."""
    mean = alpha / (alpha + beta)
    sd = np.sqrt(alpha * beta / ((alpha + beta) ** 2 * (alpha + beta + 1)))
    lo = stats.beta.ppf(1e-15, alpha, beta)
    hi = stats.beta.isf(1e-15, alpha, beta)
    start, end = float(np.max(lo)), float(np.max(hi))  # below max(lo) the product vanishes
    pieces = [np.linspace(start, end, 401)]
    for m, s in zip(mean, sd, strict=True):  # fine panels over every posterior's bulk
        pieces.append(np.linspace(max(m - 12 * s, start), min(m + 12 * s, end), 97))
    edges = np.unique(np.clip(np.concatenate(pieces), start, end))
    t, w = np.polynomial.legendre.leggauss(10)
    width = np.diff(edges)
    x = (edges[:-1, None] + width[:, None] * (t + 1) / 2).ravel()
    weights = (width[:, None] * w / 2).ravel()
    cdf = special.betainc(alpha[:, None], beta[:, None], x[None, :])
    pdf = np.exp(stats.beta.logpdf(x[None, :], alpha[:, None], beta[:, None]))
    out = []
    for k in range(len(alpha)):
        others = np.prod(np.delete(cdf, k, axis=0), axis=0)
        out.append(float((pdf[k] * others) @ weights))
    return np.array(out)
