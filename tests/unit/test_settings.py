import pytest
from banditkit.engine import InvalidSettings, Settings
from banditkit.engine.types import EFFECT_SCALE, NULL_PRIOR


def test_defaults_match_design() -> None:
    s = Settings()
    # priors unset: empirical Bayes on the pooled rate; exploration adaptive; damping on
    assert (s.alpha_prior, s.beta_prior, s.min_explore_rate, s.control_floor) == (
        None,
        None,
        0.05,
        0.1,
    )
    assert (s.exploration, s.null_prior, s.effect_scale) == ("adaptive", NULL_PRIOR, EFFECT_SCALE)
    assert (s.max_daily_shift, s.min_impressions, s.window_days, s.half_life_days) == (
        None,
        1000,
        None,
        None,
    )
    assert s.metric == "ctr"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"alpha_prior": 0}, "alpha_prior"),
        ({"beta_prior": float("nan")}, "beta_prior"),
        ({"min_explore_rate": 1.5}, "min_explore_rate"),
        ({"control_floor": -0.1}, "control_floor"),
        ({"max_daily_shift": 0}, "max_daily_shift"),
        ({"min_impressions": -1}, "min_impressions"),
        ({"window_days": 0}, "window_days"),
        ({"half_life_days": float("inf")}, "half_life_days"),
        ({"metric": "revenue"}, "metric"),
        ({"exploration": "sometimes"}, "exploration"),
    ],
)
def test_out_of_range_setting_names_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidSettings) as err:
        Settings(**kwargs)  # type: ignore[arg-type]
    assert err.value.field == field


def test_infeasible_floors_are_rejected() -> None:
    s = Settings(control_floor=0.99, min_explore_rate=0.5)
    with pytest.raises(InvalidSettings, match="exceeds 1") as err:
        s.check_feasible(n_variants=5, has_control=True)
    assert err.value.field == "control_floor"
    Settings().check_feasible(n_variants=50, has_control=True)
