"""When a retrained version may become current without a person: safe by default.

A retrain (``fpgrade retrain``, or one started by ``fpgrade sync serve``) that is not worse than
the current version registers a ``candidate``; a person promotes it (``fpgrade models promote``).
A group may opt in to automatic promotion (``--auto-promote``), and must then say on how many
test samples at least, and from which value of the compared metric on, a machine may decide.
Even then a version whose test metrics are no better than chance
(:func:`fpgrade.models.current.not_better_than_chance`) is never promoted automatically: a
macro-F1 of 0.000 judged on 15 samples is "not worse" than another 0.000, never good enough.
"""

from __future__ import annotations

from dataclasses import dataclass

from fpgrade.errors import FpgradeError
from fpgrade.models.current import not_better_than_chance


class PromotionPolicyError(FpgradeError):
    """Automatic-promotion options that do not make a policy."""


@dataclass(frozen=True)
class AutoPromotion:
    """A group's opt-in to automatic promotion."""

    min_test_samples: int
    min_metric: float


def auto_promotion(auto: bool, min_test_samples: int | None,
                   min_metric: float | None) -> AutoPromotion | None:
    """The policy the options ask for (None: a person promotes), or one line saying what is
    missing."""
    if not auto:
        if min_test_samples is not None or min_metric is not None:
            raise PromotionPolicyError("--min-test-samples and --min-metric apply to --auto-promote "
                                       "only: add --auto-promote, or leave them out (a person "
                                       "promotes with `fpgrade models promote`)")
        return None
    if min_test_samples is None or min_metric is None:
        raise PromotionPolicyError("--auto-promote needs --min-test-samples N and --min-metric X: "
                                   "the fewest test samples and the lowest value of the compared "
                                   "metric a version may be promoted on without a person")
    if min_test_samples < 1:
        raise PromotionPolicyError(f"--min-test-samples {min_test_samples}: at least 1")
    if not 0 < min_metric <= 1:
        raise PromotionPolicyError(f"--min-metric {min_metric}: above 0 and at most 1")
    return AutoPromotion(min_test_samples, min_metric)


def decide_promotion(policy: AutoPromotion | None, metric: str, value: float | None,
                     test: dict) -> tuple[bool, str]:
    """Whether a version that passed the comparison is promoted now, and why (in words).

    :param test: the version's test summary (:func:`fpgrade.models.current.summarise_test`).
    """
    if policy is None:
        return False, "awaiting a person's promotion (`fpgrade models promote VERSION`)"
    samples = int(test.get("samples") or 0)
    if samples < policy.min_test_samples:
        return False, (f"not promoted automatically: judged on {samples} test samples, fewer than "
                       f"--min-test-samples {policy.min_test_samples}")
    if value is None or value < policy.min_metric:
        shown = "none" if value is None else f"{value:.3f}"
        return False, (f"not promoted automatically: {metric} {shown} is below --min-metric "
                       f"{policy.min_metric}")
    chance = not_better_than_chance(test)
    if chance:
        return False, f"not promoted automatically: {chance}"
    return True, (f"promoted automatically: {metric} {value:.3f} on {samples} test samples "
                  f"(at least {policy.min_metric} on {policy.min_test_samples})")
