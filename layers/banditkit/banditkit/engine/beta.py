"""Deterministic numerics for independent Beta posteriors on one shared grid.

Every quantity the engine reports (P(best), E[max], credible intervals, lift intervals,
potential value remaining) is an integral over x of the posterior densities f_k and
distribution functions F_k. We build one grid fitted to the posteriors' mass and
integrate on it:

- each posterior contributes the range mean ± Z·sd (Z widened on its skewed side), and
  wants intervals no wider than sd / NODES_PER_SD inside it; where ranges overlap the
  finest wins, so the grid costs about (span of the union) / (finest sd) intervals;
- near 0 (or 1), for posteriors whose mass touches the edge with a small α (or β), the
  grid grades geometrically down to a tiny sliver whose mass is taken in closed form
  (leading term of the incomplete beta function): this keeps x^(α-1) singularities exact;
- densities are evaluated in log space with log B(α, β) split so that nothing of size
  α log p cancels (accurate for α, β up to 1e9 and beyond);
- on each interval a 4-point Gauss–Legendre rule gives the interval's mass (exact for
  degree-7 polynomials) and a 4×4 spectral integration matrix gives F_k at the inner
  nodes, so the distribution functions come from cumulative quadrature, no special
  functions needed; each F_k is normalised by its computed total mass.

P(best)_k = ∫ f_k Π_{j≠k} F_j is then a weighted sum over the Gauss nodes, with the
products excluding k taken from prefix and suffix products (no division by zero).
Posteriors with identical (α, β) get exactly identical values.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

NODES_PER_SD = 2.0  # interval width sd/2 inside a posterior's range (4 Gauss nodes each)
_Z = 9.0  # half-width of a posterior's range in sd on its light side
_Z_SKEW = 6.0  # extra sd per unit of skewness on the heavy side
_MAX_INTERVALS_PER_SEGMENT = 2000
_GRADE_BELOW = 3.0  # grade towards an edge when α (or β) is below this
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _gauss_legendre(n: int) -> tuple[Array, Array]:
    """Gauss–Legendre nodes and weights on [0, 1] (Golub–Welsch: the eigenvalues of the
    Legendre Jacobi matrix and their vectors' first components; within 3e-15 of numpy's
    leggauss, without importing numpy.polynomial on a cold start)."""
    k = np.arange(1.0, n)
    off = k / np.sqrt(4.0 * k * k - 1.0)
    t, vectors = np.linalg.eigh(np.diag(off, 1) + np.diag(off, -1))
    return (t + 1.0) / 2.0, vectors[0] ** 2


def _spectral_rule(n: int) -> tuple[Array, Array, Array]:
    """Nodes and weights on [0, 1] and the matrix S with S[o, i] = ∫_0^{t_o} ℓ_i(t) dt."""
    nodes, weights = _gauss_legendre(n)
    powers = np.arange(n)
    coeffs = np.linalg.inv(nodes[:, None] ** powers[None, :])  # Lagrange basis coefficients
    integrals = nodes[:, None] ** (powers + 1)[None, :] / (powers + 1)[None, :]
    return nodes, weights, integrals @ coeffs


_T, _W, _S = _spectral_rule(4)
_T64, _W64 = _gauss_legendre(64)


def _omega(z: float) -> float:
    """lgamma(z) − (z − ½)·log z + z, computed without cancellation for large z."""
    if z >= 10.0:
        z2 = z * z
        return _HALF_LOG_2PI + (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0) / z2) / z2) / z
    return math.lgamma(z) - (z - 0.5) * math.log(z) + z


def log_beta_rest(a: float, b: float) -> float:
    """R with log B(a, b) = a·log p + b·log q + R, p = a/(a+b), q = b/(a+b)."""
    return 0.5 * math.log((a + b) / (a * b)) + _omega(a) + _omega(b) - _omega(a + b)


@dataclass(frozen=True)
class BetaGrid:
    """Independent Beta(α_k, β_k) posteriors integrated on one shared grid."""

    alpha: Array  # (K,)
    beta: Array  # (K,)
    edges: Array  # (I+1,) interval edges
    widths: Array  # (I,)
    nodes: Array  # (I, 4) Gauss nodes
    pdf: Array  # (K, I, 4) normalised densities at the nodes
    cdf: Array  # (K, I, 4) distribution functions at the nodes
    cdf_edges: Array  # (K, I+1) distribution functions at the edges
    bottom: Array  # (K,) mass below edges[0] (closed form when graded, else 0)
    top: Array  # (K,) mass above edges[-1]
    graded_bottom: bool
    log_p: Array  # (K,) log of the posterior means
    log_q: Array  # (K,) log of 1 − the posterior means
    log_norm: Array  # (K,) normalising constant of the log densities (see _logpdf)

    @classmethod
    def build(cls, alpha: Array, beta: Array) -> BetaGrid:
        a = np.asarray(alpha, dtype=np.float64)
        b = np.asarray(beta, dtype=np.float64)
        n = a + b
        p = a / n
        q = b / n
        sd = np.sqrt(a * b / (n * n * (n + 1.0)))
        skew = 2.0 * (b - a) * np.sqrt(n + 1.0) / ((n + 2.0) * np.sqrt(a * b))
        lo = np.maximum(p - sd * (_Z + _Z_SKEW * np.maximum(-skew, 0.0)), 0.0)
        hi = np.minimum(p + sd * (_Z + _Z_SKEW * np.maximum(skew, 0.0)), 1.0)
        edges, graded_bottom, graded_top = _edges(a, b, lo, hi, sd)
        widths = np.diff(edges)
        nodes = edges[:-1, None] + widths[:, None] * _T[None, :]

        rest = np.array([log_beta_rest(float(x), float(y)) for x, y in zip(a, b, strict=True)])
        # np.where evaluates both branches: the unused one may be log(0) when a mean rounds
        # to 1 (α ~ 1e12 against β ~ 1e-9); the branch kept is always finite.
        with np.errstate(divide="ignore"):
            log_p = np.where(p < 0.5, np.log(p), np.log1p(-q))
            log_q = np.where(q < 0.5, np.log(q), np.log1p(-p))
        pdf = np.exp(_logpdf(a, b, log_p, log_q, log_p + log_q + rest, nodes))

        k = len(a)
        bottom = np.zeros(k)
        top = np.zeros(k)
        if graded_bottom:
            x0 = edges[0]
            log_mass = (
                a * (math.log(x0) - log_p)
                - b * log_q
                - np.log(a)
                - rest
                + (b - 1.0) * a / (a + 1.0) * math.log1p(-x0)
            )
            bottom = np.exp(log_mass)
        if graded_top:
            y0 = 1.0 - edges[-1]
            log_mass = (
                b * (math.log(y0) - log_q)
                - a * log_p
                - np.log(b)
                - rest
                + (a - 1.0) * b / (b + 1.0) * math.log1p(-y0)
            )
            top = np.exp(log_mass)

        masses = (pdf @ _W) * widths[None, :]  # (K, I)
        cdf_edges = np.concatenate(
            [bottom[:, None], bottom[:, None] + np.cumsum(masses, axis=1)], 1
        )
        cdf = cdf_edges[:, :-1, None] + widths[None, :, None] * (pdf @ _S.T)
        total = cdf_edges[:, -1] + top
        pdf /= total[:, None, None]
        cdf /= total[:, None, None]
        cdf_edges /= total[:, None]
        return cls(
            alpha=a,
            beta=b,
            edges=edges,
            widths=widths,
            nodes=nodes,
            pdf=pdf,
            cdf=np.clip(cdf, 0.0, 1.0),
            cdf_edges=np.clip(cdf_edges, 0.0, 1.0),
            bottom=bottom / total,
            top=top / total,
            graded_bottom=graded_bottom,
            log_p=log_p,
            log_q=log_q,
            log_norm=log_p + log_q + rest + np.log(total),
        )

    @cached_property
    def weights(self) -> Array:
        """Quadrature weight of each Gauss node, flattened like nodes.ravel()."""
        return (self.widths[:, None] * _W[None, :]).ravel()

    def p_best(self) -> Array:
        """P(θ_k is the largest), normalised to sum to 1; ties get identical values."""
        k = len(self.alpha)
        if k == 1:
            return np.ones(1)
        cdf = self.cdf.reshape(k, -1)
        pdf = self.pdf.reshape(k, -1)
        ones = np.ones((1, cdf.shape[1]))
        prefix = np.cumprod(np.concatenate([ones, cdf[:-1]]), axis=0)
        suffix = np.cumprod(np.concatenate([ones, cdf[:0:-1]]), axis=0)[::-1]
        p = (pdf * prefix * suffix) @ self.weights
        if self.graded_bottom:
            p += float(np.prod(self.bottom)) * self.alpha / float(self.alpha.sum())
        if np.any(self.top > 0):
            p += self._p_best_top()
        p = np.clip(p, 0.0, None)
        p /= p.sum()
        return _equalise_ties(p, self.alpha, self.beta)

    def _p_best_top(self) -> Array:
        """Each variant's P(best) inside the sliver above edges[-1].

        There 1 − F_j(1 − y) = top_j·(y/y0)^β_j (leading term); with v = (y/y0)^β_min the
        integral ∫ dS_k Π_{j≠k}(1 − S_j) is smooth in v and a 64-point rule takes it.
        """
        inside = self.top > 0
        smallest = float(np.min(self.beta[inside]))
        r = np.where(inside, self.beta / smallest, 1.0)[:, None]
        v = _T64[None, :]
        tail = self.top[:, None] * v**r  # S_j at each node, (K, 64)
        dens = self.top[:, None] * r * v ** (r - 1.0)  # dS_k/dv
        keep = 1.0 - tail
        ones = np.ones((1, keep.shape[1]))
        prefix = np.cumprod(np.concatenate([ones, keep[:-1]]), axis=0)
        suffix = np.cumprod(np.concatenate([ones, keep[:0:-1]]), axis=0)[::-1]
        out: Array = (dens * prefix * suffix) @ _W64
        return out

    def expected_max(self) -> float:
        """E[max_k θ_k] = ∫_0^1 (1 − Π_k F_k(x)) dx."""
        prod = np.prod(self.cdf.reshape(len(self.alpha), -1), axis=0)
        return float(self.edges[0] + (1.0 - prod) @ self.weights)

    @cached_property
    def sequence(self) -> tuple[Array, Array]:
        """All grid points in order (0, edges and Gauss nodes, 1) and every F_k on them."""
        k, i = len(self.alpha), len(self.widths)
        xs = np.concatenate([self.edges[:-1, None], self.nodes], axis=1).ravel()
        xs = np.concatenate([[0.0], xs, self.edges[-1:], [1.0]])
        fs = np.concatenate([self.cdf_edges[:, :-1, None], self.cdf], axis=2).reshape(k, 5 * i)
        fs = np.concatenate([np.zeros((k, 1)), fs, self.cdf_edges[:, -1:], np.ones((k, 1))], 1)
        return xs, np.maximum.accumulate(fs, axis=1)

    def quantiles(self, probs: Array) -> Array:
        """(K, len(probs)) quantiles of each posterior, by inverting F_k on the grid.

        Between two grid points F_k is modelled as the integral of the linear interpolant
        of f_k (a quadratic), which makes the inversion third-order accurate.
        """
        xs, fs = self.sequence
        k, i = len(self.alpha), len(self.widths)
        at_edges = np.exp(
            _logpdf(self.alpha, self.beta, self.log_p, self.log_q, self.log_norm, self.edges)
        )  # (K, I+1)
        ds = np.concatenate([at_edges[:, :-1, None], self.pdf], axis=2).reshape(k, 5 * i)
        ds = np.concatenate([np.zeros((k, 1)), ds, at_edges[:, -1:], np.zeros((k, 1))], 1)
        # One search for every (variant, prob): offset row r by 2r so the rows concatenate
        # into one increasing array (every F lies in [0, 1]).
        width = len(xs)
        offsets = 2.0 * np.arange(k)[:, None]
        flat = (fs + offsets).ravel()
        target = (probs[None, :] + offsets).ravel()
        j = np.searchsorted(flat, target, side="right") - 1
        j = np.clip(j, (j // width) * width, (j // width) * width + width - 2)
        x = np.tile(xs, k)
        f, d = fs.ravel(), ds.ravel()
        step = x[j + 1] - x[j]
        gain = probs[None, :].repeat(k, 0).ravel() - f[j]
        rise = f[j + 1] - f[j]
        linear = x[j] + step * np.where(rise > 0, gain / np.where(rise > 0, rise, 1.0), 0.0)
        with np.errstate(all="ignore"):
            curve = (d[j + 1] - d[j]) / (2.0 * step)
            t = 2.0 * gain / (d[j] + np.sqrt(d[j] ** 2 + 4.0 * curve * gain))
        inner = (j % width > 0) & (j % width < width - 2)
        good = np.isfinite(t) & (t >= 0.0) & (t <= step) & inner
        out: Array = np.where(good, x[j] + np.where(good, t, 0.0), linear).reshape(k, len(probs))
        return out

    def scaled_cdf(self, k: int, g: Array) -> Callable[[Array], Array]:
        """s ↦ ∫ f_k(x) G(s·x) dx for a nondecreasing G given on `sequence` (vectorised in s).

        P(θ_j/θ_k ≤ r) takes G = F_j; P((max θ − θ_k)/θ_k ≤ v) takes G = Π_{j≠k} F_j and
        s = 1 + v. Nodes where f_k carries no mass are dropped once, up front.
        """
        xs, _ = self.sequence
        mass = self.pdf[k].ravel() * self.weights
        keep = mass > 1e-15 * float(np.max(mass))
        x, mass = self.nodes.ravel()[keep], mass[keep]

        def cdf(scales: Array) -> Array:
            inner = np.interp(scales[:, None] * x[None, :], xs, g)
            out: Array = np.clip(inner @ mass, 0.0, 1.0)
            return out

        return cdf

    def ratio_cdf(self, k: int, c: int, ratios: Array) -> Array:
        """P(θ_k / θ_c ≤ r) for each r in ratios: ∫ f_c(x) F_k(r·x) dx."""
        return self.scaled_cdf(c, self.sequence[1][k])(ratios)


def _logpdf(a: Array, b: Array, log_p: Array, log_q: Array, log_norm: Array, x: Array) -> Array:
    """log Beta(a_k, b_k) density at x (any shape), shape (K, *x.shape).

    Written as (a−1)·log(x/p) + (b−1)·log((1−x)/q) − log_norm, so that for a, b ~ 1e9 no
    term of size a·log p has to cancel against log B(a, b).
    """
    shape = (len(a),) + (1,) * x.ndim
    with np.errstate(divide="ignore"):
        log_x = np.log(x)
        log_1mx = np.log1p(-x)
    out: Array = (
        (a - 1.0).reshape(shape) * (log_x[None] - log_p.reshape(shape))
        + (b - 1.0).reshape(shape) * (log_1mx[None] - log_q.reshape(shape))
        - log_norm.reshape(shape)
    )
    return out


def _equalise_ties(values: Array, a: Array, b: Array) -> Array:
    """Give posteriors with identical (α, β) exactly the same value (their mean)."""
    groups: dict[tuple[float, float], list[int]] = {}
    for i, key in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
        groups.setdefault(key, []).append(i)
    out = values.copy()
    for members in groups.values():
        if len(members) > 1:
            out[members] = values[members].mean()
    return out


def _edges(a: Array, b: Array, lo: Array, hi: Array, sd: Array) -> tuple[Array, bool, bool]:
    """Interval edges: each posterior's range at sd/NODES_PER_SD, graded near 0 and 1."""
    cuts = np.unique(np.concatenate([lo, hi]))
    left, right = cuts[:-1], cuts[1:]
    covering = (lo[:, None] <= left[None, :]) & (hi[:, None] >= right[None, :])  # (K, M)
    finest = np.min(np.where(covering, sd[:, None], np.inf), axis=0) / NODES_PER_SD
    with np.errstate(divide="ignore", invalid="ignore"):
        wanted = np.where(np.isfinite(finest), np.ceil((right - left) / finest), 1.0)
    count = np.clip(wanted, 1, _MAX_INTERVALS_PER_SEGMENT).astype(np.int64)
    segment = np.repeat(np.arange(len(left)), count)
    step = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    inner = left[segment] + (right - left)[segment] * (step / count[segment])
    edges = np.concatenate([inner, cuts[-1:]])

    graded_bottom = graded_top = False
    touch0 = lo <= 0.0
    if touch0.any() and float(np.min(a[touch0])) < _GRADE_BELOW:
        smallest = float(np.min(a[touch0]))
        x1 = float(edges[1])
        # Mass below x_min is ~ (x_min/x1)^α: aim for 1e-13, within double range.
        ratio_exp = min(13.0 / smallest * math.log2(10.0), 1000.0)
        x_min = max(x1 * 2.0 ** (-ratio_exp), 1e-300)
        steps = max(math.ceil(math.log2(x1 / x_min)), 1)
        graded = x1 * 2.0 ** -np.arange(steps, 0, -1, dtype=np.float64)
        edges = np.concatenate([graded, edges[1:]])
        graded_bottom = True
    touch1 = hi >= 1.0
    if touch1.any() and float(np.min(b[touch1])) < _GRADE_BELOW:
        smallest = float(np.min(b[touch1]))
        y1 = 1.0 - float(edges[-2])
        ratio_exp = min(13.0 / smallest * math.log2(10.0), 1000.0)
        y_min = max(y1 * 2.0 ** (-ratio_exp), 4.0e-16)
        steps = max(math.ceil(math.log2(y1 / y_min)), 1)
        graded = 1.0 - y1 * 2.0 ** -np.arange(1, steps + 1, dtype=np.float64)
        edges = np.unique(np.concatenate([edges[:-1], graded]))
        graded_top = True
    return edges, graded_bottom, graded_top
