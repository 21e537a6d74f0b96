"""A run's figures over its folds (``summary.json``, ``evaluation.json``).

- ``folds``: every fold's complete test figures: accuracy, macro F1, quadratic weighted kappa,
  mean absolute grade error, expected calibration error, subject accuracy (per visit), the
  per-class precision / recall / F1 / support and the confusion matrix (scikit-learn's, via
  :func:`fpgrade.training.metrics.compute_metrics`);
- per metric: ``mean``, ``std``, ``n`` (the folds it was computed in) and ``values`` (per fold,
  null where the fold could not compute it). ``std`` is the *sample* standard deviation
  (``ddof=1``, stated as ``"std_ddof": 1``): the folds are a sample of the splits that could have
  been drawn (NumPy's default ``ddof=0`` is the population one, which issue 22 found unstated);
  with one fold it is null, with the reason in ``std_reason``;
- ``null_reasons``: for each metric that is null, why (e.g. the weighted kappa of a scale that is
  not ordinal); the per-fold reasons are in each fold's own ``null_reasons``;
- ``pooled_confusion_matrix``: the folds' confusion matrices added up (every sample once, each
  from the fold that tested it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

STD_DDOF = 1

#: the summarised metrics: key -> (the words a reader sees, how a fold's metrics give it)
METRICS: dict[str, tuple[str, Callable[[dict], float | None]]] = {
    "accuracy": ("accuracy", lambda m: m["accuracy"]),
    "macro_f1": ("macro F1", lambda m: m["macro"]["f1"]),
    "macro_precision": ("macro precision", lambda m: m["macro"]["precision"]),
    "macro_recall": ("macro recall", lambda m: m["macro"]["recall"]),
    "macro_dice": ("macro Dice", lambda m: m["macro"]["dice"]),
    "quadratic_weighted_kappa": ("quadratic weighted kappa", lambda m: m.get("quadratic_weighted_kappa")),
    "mean_absolute_grade_error": ("mean absolute grade error", lambda m: m.get("mean_absolute_grade_error")),
    "expected_calibration_error": ("expected calibration error", lambda m: m["expected_calibration_error"]),
    "subject_accuracy": ("subject accuracy (per visit)", lambda m: m["per_subject"]["accuracy"]),
}


def _value(get: Callable[[dict], float | None], metrics: dict) -> float | None:
    try:
        value = get(metrics)
    except (KeyError, TypeError):
        return None
    return None if value is None else float(value)


def stat(values: Sequence[float | None]) -> dict | None:
    """Mean and sample std (ddof=1) of the values that are not None; None if there are none."""
    computed = [v for v in values if v is not None]
    if not computed:
        return None
    out = {"mean": float(np.mean(computed)), "std": None, "n": len(computed), "values": list(values)}
    if len(computed) > STD_DDOF:
        out["std"] = float(np.std(computed, ddof=STD_DDOF))
    else:
        out["std_reason"] = "one value: a sample standard deviation needs at least two"
    return out


def fold_entry(metrics: dict) -> dict:
    """A fold's figures as the summary lists them."""
    entry = {"fold": metrics.get("fold"), "samples": metrics["samples"]}
    entry.update({name: _value(get, metrics) for name, (_, get) in METRICS.items()})
    if "best_epoch" in metrics:
        entry["best_epoch"] = metrics["best_epoch"]
    entry.update(per_class=metrics.get("per_class"), confusion_matrix=metrics.get("confusion_matrix"),
                 null_reasons=metrics.get("null_reasons", {}))
    if "per_subject" in metrics:
        subjects = metrics["per_subject"].get("subjects")  # a dict in runs older than issue 22
        entry.update(subjects=len(subjects) if isinstance(subjects, dict) else subjects,
                     subject_visits=metrics["per_subject"].get("visits"))
    return entry


def _reason(name: str, fold_metrics: Sequence[dict]) -> str:
    reasons = []
    for metrics in fold_metrics:
        reason = metrics.get("null_reasons", {}).get(name)
        if reason and reason not in reasons:
            reasons.append(reason)
    return "; ".join(reasons) or "not computed in any fold"


def pooled_confusion(fold_metrics: Sequence[dict]) -> dict | None:
    matrices = [m["confusion_matrix"] for m in fold_metrics if m.get("confusion_matrix")]
    if not matrices:
        return None
    counts = np.sum([np.array(m["counts"]) for m in matrices], axis=0)
    return {"labels": matrices[0]["labels"], "counts": counts.tolist()}


def summarise(fold_metrics: Sequence[dict]) -> dict:
    """The summary of a run's tested folds; see the module docstring."""
    summary: dict = {"std_ddof": STD_DDOF, "folds": [fold_entry(m) for m in fold_metrics]}
    reasons = {}
    for name, (_, get) in METRICS.items():
        summary[name] = stat([_value(get, m) for m in fold_metrics])
        if summary[name] is None:
            reasons[name] = _reason(name, fold_metrics)
        elif summary[name]["n"] < len(fold_metrics):
            missing = [m.get("fold") for m in fold_metrics if _value(get, m) is None]
            summary[name]["folds_without"] = missing
            summary[name]["folds_without_reason"] = _reason(name, fold_metrics)
    summary["null_reasons"] = reasons
    summary["samples"] = sum(m["samples"] for m in fold_metrics)
    summary["pooled_confusion_matrix"] = pooled_confusion(fold_metrics)
    return summary


def words(name: str) -> str:
    """A metric's name as a reader sees it."""
    return METRICS[name][0] if name in METRICS else name.replace("_", " ")
