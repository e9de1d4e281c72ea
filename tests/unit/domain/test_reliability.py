"""The Beta posterior of reliability: its interval against SciPy's Beta distribution (an
independent implementation), forgetting, and the prior for a new maker."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from fabnet.domain.errors import InvalidInput
from fabnet.domain.reliability import Belief, Posterior, ReliabilityPrior, regularized_beta

T0 = datetime(2026, 12, 1, tzinfo=UTC)
PRIOR = ReliabilityPrior()


@given(st.floats(0.05, 500), st.floats(0.05, 500), st.floats(0.001, 0.999, allow_nan=False))
def test_the_cdf_and_quantiles_agree_with_scipy(a, b, x):
    assert regularized_beta(x, a, b) == pytest.approx(stats.beta.cdf(x, a, b), abs=1e-9)
    q = Posterior(a, b).quantile(x)
    assert q == pytest.approx(stats.beta.ppf(x, a, b), abs=1e-7)


def test_a_new_maker_is_the_prior():
    post = Belief().posterior(PRIOR)
    assert post.mean == 0.5 and post.interval() == pytest.approx((0.05, 0.95))


def test_outcomes_move_the_belief_and_narrow_it():
    belief = Belief()
    for i in range(40):
        belief = belief.observe(i % 10 != 0, T0 + timedelta(hours=i), PRIOR)  # 90% succeed
    post = belief.posterior(PRIOR)
    lo, hi = post.interval()
    assert 0.8 < post.mean < 0.92 and hi - lo < 0.25 and lo < post.mean < hi


def test_old_outcomes_are_forgotten_by_half_each_half_life():
    belief = Belief().observe(False, T0, PRIOR)
    later = belief.decayed(T0 + timedelta(days=180), PRIOR)
    assert later.failures == pytest.approx(0.5)
    far = belief.posterior(PRIOR, now=T0 + timedelta(days=3650))
    assert far.mean == pytest.approx(0.5, abs=1e-4)  # back to the prior


@pytest.mark.parametrize("field", ["successes", "failures", "half_life_days"])
def test_a_bad_prior_names_its_field(field):
    with pytest.raises(InvalidInput) as caught:
        ReliabilityPrior(**{field: 0})
    assert caught.value.field == f"reliability.{field}"
