"""Which validation figure chooses the kept epoch (``train --select-metric``), and the metric
getters ``retrain --metric`` shares.

The score of an epoch is the chosen metric (negated where lower is better: the mean absolute
grade error) plus a thousandth of the accuracy, so that of two epochs equal on the metric the
more accurate is kept (accuracy itself is broken by a thousandth of the macro F1). A weighted
kappa that a validation set cannot give (all one grade: 0/0) scores below any real kappa (-1 is
the lowest), so such an epoch is kept only while no other is. The grade error and the kappa
need an ordinal scale: asked on another, the run is refused before anything is read.
"""

from __future__ import annotations

from collections.abc import Callable

from fpgrade.errors import TrainingError
from fpgrade.scales import GradingScale

#: metric -> how a ``compute_metrics`` answer gives it (None where it could not be computed)
GETTERS: dict[str, Callable[[dict], float | None]] = {
    "macro_f1": lambda m: m["macro"]["f1"],
    "accuracy": lambda m: m["accuracy"],
    "quadratic_weighted_kappa": lambda m: m.get("quadratic_weighted_kappa"),
    "mean_absolute_grade_error": lambda m: m.get("mean_absolute_grade_error"),
}
#: the short names ``--select-metric`` takes
CHOICES = {"macro_f1": "macro_f1", "qwk": "quadratic_weighted_kappa", "accuracy": "accuracy",
           "mae": "mean_absolute_grade_error"}
LOWER_IS_BETTER = {"mean_absolute_grade_error"}
ORDINAL_ONLY = {"quadratic_weighted_kappa", "mean_absolute_grade_error"}


def metric_value(name: str, metrics: dict) -> float | None:
    try:
        value = GETTERS[name](metrics)
    except (KeyError, TypeError):
        return None
    return None if value is None else float(value)


def check_select_metric(choice: str, scale: GradingScale) -> str:
    """The full metric name of ``--select-metric CHOICE``, or one line saying why not."""
    name = CHOICES.get(choice, choice if choice in GETTERS else None)
    if name is None:
        raise TrainingError(f"--select-metric {choice!r}: one of {', '.join(CHOICES)}")
    if name in ORDINAL_ONLY and not scale.ordinal:
        raise TrainingError(f"--select-metric {choice}: {scale.id} is not an ordinal scale, so it has "
                            "no weighted kappa nor grade error; choose macro_f1 or accuracy")
    return name


def epoch_score(name: str, metrics: dict) -> float:
    """The score that chooses the kept epoch (higher is better); see the module docstring."""
    accuracy = metrics["accuracy"]
    if name == "accuracy":
        return accuracy + 1e-3 * metrics["macro"]["f1"]
    value = metric_value(name, metrics)
    if value is None:
        return -2.0 + 1e-3 * accuracy
    return (-value if name in LOWER_IS_BETTER else value) + 1e-3 * accuracy
