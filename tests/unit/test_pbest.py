"""P(best) and the other grid integrals against exact references (scipy/mpmath in tests only)."""

import math

import mpmath
import numpy as np
import pytest
from banditkit.engine.beta import BetaGrid, _gauss_legendre, log_beta_rest
from numpy.typing import NDArray
from references import reference_p_best
from scipy import special, stats

TOL = 1e-4  # the accuracy the engine promises


def closed_form_b_beats_a(a1: int, b1: int, a2: int, b2: int) -> float:
    """P(θ_2 > θ_1) for integer parameters (Evan Miller's exact sum over a2 terms)."""

    def lbeta(x: float, y: float) -> float:
        return math.lgamma(x) + math.lgamma(y) - math.lgamma(x + y)

    total = 0.0
    for i in range(a2):
        total += math.exp(
            lbeta(a1 + i, b1 + b2) - math.log(b2 + i) - lbeta(1 + i, b2) - lbeta(a1, b1)
        )
    return total


def mp_p_best(alpha: list[float], beta: list[float]) -> list[float]:
    """20-digit mpmath quadrature, split at each posterior's mean ± a few sd."""
    mpmath.mp.dps = 20
    marks: set[float] = {0.0, 1.0}
    for a, b in zip(alpha, beta, strict=True):
        m = a / (a + b)
        s = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
        marks.update(min(max(m + z * s, 0.0), 1.0) for z in (-9, -3, 0, 3, 9))
    points = sorted(marks)
    out = []
    for k in range(len(alpha)):

        def integrand(x: mpmath.mpf, k: int = k) -> mpmath.mpf:
            value = x ** (alpha[k] - 1) * (1 - x) ** (beta[k] - 1) / mpmath.beta(alpha[k], beta[k])
            for j in range(len(alpha)):
                if j != k:
                    value *= mpmath.betainc(alpha[j], beta[j], 0, x, regularized=True)
            return value

        out.append(float(mpmath.quad(integrand, points)))
    return out


def grid_p_best(alpha: list[float], beta: list[float]) -> NDArray[np.float64]:
    return BetaGrid.build(np.array(alpha, float), np.array(beta, float)).p_best()


@pytest.mark.parametrize(
    ("a1", "b1", "a2", "b2"),
    [
        (1, 1, 1, 1),
        (3, 10, 7, 12),
        (71, 930, 96, 905),
        (351, 4651, 476, 4526),
        (2, 20000, 5, 19997),
    ],
)
def test_two_arms_match_the_closed_form(a1: int, b1: int, a2: int, b2: int) -> None:
    # Given two integer-parameter posteriors, When P(best) is computed,
    # Then the second arm's share equals the exact closed form.
    p = grid_p_best([a1, a2], [b1, b2])
    assert p[1] == pytest.approx(closed_form_b_beats_a(a1, b1, a2, b2), abs=TOL)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(
    ("alpha", "beta"),
    [
        # three arms, huge counts (α, β ~ 1e9) a few sd apart
        ([1e9, 1e9 + 4e4, 1e9 + 2e4], [1e9, 1e9, 1e9]),
        # extreme low rates (~1e-4) with few successes
        ([1 + 10, 1 + 14, 1 + 9], [1 + 1e5, 1 + 1e5, 1 + 1e5]),
        # extreme high rates (~0.9999)
        ([1 + 999_900, 1 + 999_880], [1 + 100, 1 + 120]),
        # Jeffreys prior with no successes: x^(-1/2) singularities at 0
        ([0.5, 0.5, 0.5], [1000.5, 2000.5, 1500.5]),
        # very different widths: one posterior 100x narrower than the other
        ([31, 30_001], [971, 969_999]),
    ],
)
def test_k_arms_match_high_precision_integration(alpha: list[float], beta: list[float]) -> None:
    expected = reference_p_best(np.array(alpha), np.array(beta))
    assert np.max(np.abs(grid_p_best(alpha, beta) - expected)) <= TOL


@pytest.mark.parametrize(
    ("alpha", "beta"),
    [
        ([0.5, 0.5, 0.5], [300.5, 600.5, 450.5]),  # singular densities at 0
        ([3.0, 7.0, 5.0], [60.0, 55.0, 58.0]),  # small, skewed
        ([30.0, 29.5], [0.5, 0.7]),  # singular at 1
    ],
)
def test_small_parameters_match_mpmath(alpha: list[float], beta: list[float]) -> None:
    expected = mp_p_best(alpha, beta)
    assert np.max(np.abs(grid_p_best(alpha, beta) - expected)) <= TOL


@pytest.mark.parametrize("k", [2, 5, 10, 20, 50])
def test_many_arms_match_reference_integration(k: int) -> None:
    rng = np.random.default_rng(k)
    rates = rng.uniform(0.03, 0.036, k)
    n = rng.integers(2_000, 60_000, k)
    clicks = rng.binomial(n, rates)
    alpha = 1.0 + clicks
    beta = 1.0 + n - clicks
    got = BetaGrid.build(alpha, beta).p_best()
    assert np.max(np.abs(got - reference_p_best(alpha, beta))) <= TOL


def test_fifty_arms_at_a_billion_trials() -> None:
    rng = np.random.default_rng(7)
    alpha = 1e9 + rng.integers(0, 80_000, 50).astype(float)
    beta = 2e9 - alpha
    got = BetaGrid.build(alpha, beta).p_best()
    assert np.max(np.abs(got - reference_p_best(alpha, beta))) <= TOL


def test_exact_ties_get_exactly_equal_shares() -> None:
    alpha = np.array([51.0, 60.0, 51.0, 51.0, 60.0])
    beta = np.array([950.0, 941.0, 950.0, 950.0, 941.0])
    p = BetaGrid.build(alpha, beta).p_best()
    assert p[0] == p[2] == p[3]
    assert p[1] == p[4]
    assert p.sum() == pytest.approx(1.0, abs=1e-12)


def test_identical_posteriors_split_exactly_evenly() -> None:
    p = BetaGrid.build(np.full(4, 1e9), np.full(4, 1e9)).p_best()
    assert np.all(p == p[0])
    assert p[0] == pytest.approx(0.25, abs=1e-15)


def test_same_input_gives_bitwise_same_output() -> None:
    alpha = np.array([12.0, 15.0, 9.0])
    beta = np.array([400.0, 380.0, 420.0])
    one = BetaGrid.build(alpha, beta).p_best()
    two = BetaGrid.build(alpha.copy(), beta.copy()).p_best()
    assert one.tobytes() == two.tobytes()


def test_expected_max_matches_integration() -> None:
    alpha = np.array([40.0, 52.0, 47.0])
    beta = np.array([960.0, 948.0, 953.0])
    x = np.linspace(0.0, 0.2, 400_001)
    prod = np.prod(special.betainc(alpha[:, None], beta[:, None], x[None, :]), axis=0)
    expected = 0.2 - np.trapezoid(prod, x)
    assert BetaGrid.build(alpha, beta).expected_max() == pytest.approx(expected, abs=1e-7)


@pytest.mark.parametrize(
    ("a", "b"), [(1.0, 1.0), (3.5, 90.0), (1e4, 3e5), (1e9, 1e9), (0.5, 800.0)]
)
def test_credible_interval_quantiles_match_scipy(a: float, b: float) -> None:
    grid = BetaGrid.build(np.array([a]), np.array([b]))
    got = grid.quantiles(np.array([0.025, 0.975]))[0]
    sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    assert got == pytest.approx(stats.beta.ppf([0.025, 0.975], a, b), abs=2e-3 * sd)


@pytest.mark.parametrize(("a", "b"), [(0.5, 3.0), (7.0, 3.0), (2e3, 1e6), (1e9, 3e9), (40.0, 1e9)])
def test_log_beta_split_matches_lgamma(a: float, b: float) -> None:
    p, q = a / (a + b), b / (a + b)
    log_p = math.log(p) if p < 0.5 else math.log1p(-q)
    log_q = math.log(q) if q < 0.5 else math.log1p(-p)
    mpmath.mp.dps = 30
    exact = mpmath.log(mpmath.beta(mpmath.mpf(a), mpmath.mpf(b)))
    got = a * log_p + b * log_q + log_beta_rest(a, b)
    assert got == pytest.approx(float(exact), rel=1e-12, abs=1e-9)


def test_ratio_distribution_matches_monte_carlo() -> None:
    # P(θ_0/θ_1 ≤ r), checked against a large seeded sample (tolerance ~4 standard errors).
    alpha = np.array([60.0, 50.0])
    beta = np.array([940.0, 950.0])
    grid = BetaGrid.build(alpha, beta)
    rng = np.random.default_rng(3)
    draws = rng.beta(alpha[:, None], beta[:, None], (2, 400_000))
    ratios = np.array([0.9, 1.0, 1.2, 1.5])
    empirical = (draws[0][None, :] / draws[1][None, :] <= ratios[:, None]).mean(axis=1)
    assert grid.ratio_cdf(0, 1, ratios) == pytest.approx(empirical, abs=3e-3)


def mp_two_arms(a: list[float], b: list[float]) -> float:
    """P(θ_1 > θ_0) in 25 digits, the upper half integrated in y = 1 − x (β < 1 is singular)."""
    mpmath.mp.dps = 25
    a0, a1 = (mpmath.mpf(v) for v in a)
    b0, b1 = (mpmath.mpf(v) for v in b)
    norm = mpmath.beta(a1, b1)

    def low(x: mpmath.mpf) -> mpmath.mpf:
        return (
            x ** (a1 - 1)
            * (1 - x) ** (b1 - 1)
            / norm
            * mpmath.betainc(a0, b0, 0, x, regularized=True)
        )

    def high(y: mpmath.mpf) -> mpmath.mpf:
        upper = 1 - mpmath.betainc(b0, a0, 0, y, regularized=True)
        return (1 - y) ** (a1 - 1) * y ** (b1 - 1) / norm * upper

    points = [0, *(mpmath.mpf(10) ** -e for e in (100, 50, 20, 10, 5, 2)), mpmath.mpf("0.5")]
    return float(mpmath.quad(low, points) + mpmath.quad(high, points))


@pytest.mark.parametrize(
    ("a", "b"),
    [([0.5, 0.7], [0.5, 0.3]), ([3.0, 2.0], [0.2, 0.1]), ([0.05, 0.05], [0.3, 0.1])],
)
def test_singular_at_both_ends_match_mpmath(a: list[float], b: list[float]) -> None:
    assert grid_p_best(a, b)[1] == pytest.approx(mp_two_arms(a, b), abs=TOL)


@pytest.mark.parametrize("n", [4, 64])
def test_gauss_legendre_rule_is_numpys_and_exact_to_degree_2n_minus_1(n: int) -> None:
    nodes, weights = _gauss_legendre(n)
    t, w = np.polynomial.legendre.leggauss(n)
    assert np.allclose(nodes, (t + 1) / 2, rtol=0, atol=1e-14)
    assert np.allclose(weights, w / 2, rtol=0, atol=1e-14)
    for degree in (0, 1, n, 2 * n - 1):  # ∫_0^1 x^d dx = 1 / (d + 1)
        assert float(weights @ nodes**degree) == pytest.approx(1 / (degree + 1), rel=1e-12)
