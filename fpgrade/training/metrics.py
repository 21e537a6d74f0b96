"""Metrics of a set of predictions (scikit-learn where it has them).

- accuracy; per-class and macro precision, recall, F1;
- paper 002's metrics (eq. 5-8): accuracy, recall (tpr), "confidence" (tpa, which is precision)
  and Dice = 2PR / (P + R), per class and macro. Eq. 5 prints (TP - FN) / (TP + FN + FP + TN),
  evidently a typo: the standard accuracy (TP + TN) / (TP + FN + FP + TN) is used;
- confusion matrix (counts, rows = truth), as JSON and as a PNG;
- beyond the papers: quadratic-weighted Cohen's kappa and mean absolute grade error for ordinal
  scales, expected calibration error (15 equal-width confidence bins), per-subject results per
  visit (:func:`per_subject`).

A metric that cannot be computed is None, with the reason in ``null_reasons`` (a scale that is
not ordinal has no weighted kappa nor grade error: sided7's L3 and R1 have no order; a kappa
whose truth and predictions are all one grade is 0/0).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, cohen_kappa_score, confusion_matrix, precision_recall_fscore_support

from fpgrade.scales import GradingScale

ECE_BINS = 15


def expected_calibration_error(probabilities: np.ndarray, truth: np.ndarray, bins: int = ECE_BINS) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by bin size."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == truth
    edges = np.linspace(0.0, 1.0, bins + 1)
    error = 0.0
    for low, high in zip(edges[:-1], edges[1:]):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            error += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(error)


def compute_metrics(truth: Sequence[int], probabilities: np.ndarray, scale: GradingScale,
                    subjects: Sequence[str] | None = None,
                    visits: Sequence[str | None] | None = None) -> dict:
    truth = np.asarray(truth)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    predicted = probabilities.argmax(axis=1)
    labels = list(range(len(scale)))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        dice = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    present = support > 0
    result = {
        "samples": int(len(truth)),
        "accuracy": float(accuracy_score(truth, predicted)),
        "macro": {
            "precision": float(precision[present].mean()) if present.any() else 0.0,
            "recall": float(recall[present].mean()) if present.any() else 0.0,
            "f1": float(f1[present].mean()) if present.any() else 0.0,
            "confidence": float(precision[present].mean()) if present.any() else 0.0,
            "dice": float(dice[present].mean()) if present.any() else 0.0,
        },
        "per_class": {
            code: {"precision": float(p), "recall": float(r), "f1": float(f), "dice": float(d),
                   "support": int(s)}
            for code, p, r, f, d, s in zip(scale.codes, precision, recall, f1, dice, support)
        },
        "confusion_matrix": {"labels": list(scale.codes),
                             "counts": confusion_matrix(truth, predicted, labels=labels).tolist()},
        "expected_calibration_error": expected_calibration_error(probabilities, truth),
    }
    reasons = {}
    result["quadratic_weighted_kappa"] = result["mean_absolute_grade_error"] = None
    if not scale.ordinal:
        why = (f"{scale.id} is not an ordinal scale (its grades have no single order"
               + (", e.g. L3 and R1: a side and a severity" if scale.side_aware else "")
               + "), so there is no grade distance to weight or average")
        reasons = {"quadratic_weighted_kappa": why, "mean_absolute_grade_error": why}
    else:
        kappa = float("nan")
        if len(set(truth) | set(predicted)) > 1:
            kappa = float(cohen_kappa_score(truth, predicted, labels=labels, weights="quadratic"))
        if np.isfinite(kappa):
            result["quadratic_weighted_kappa"] = kappa
        else:
            reasons["quadratic_weighted_kappa"] = (
                f"every truth and prediction is {scale.codes[int(truth[0])]}: the kappa is 0/0")
        result["mean_absolute_grade_error"] = float(np.abs(truth - predicted).mean())
    result["null_reasons"] = reasons
    if subjects is not None:
        result["per_subject"] = per_subject(truth, probabilities, subjects, scale, visits)
    return result


#: how :func:`per_subject` breaks ties (also written into its answer)
TIE_RULE = ("a visit's grade is its samples' most common true grade and its prediction their most "
            "common predicted grade; a tie goes to the grade with the higher summed probability "
            "over the visit's samples, then to the grade first in the scale's order")


def _majority(counts: Counter, tiebreak: np.ndarray) -> int:
    top = max(counts.values())
    tied = [grade for grade, n in counts.items() if n == top]
    return min(tied, key=lambda grade: (-tiebreak[grade], grade))


def per_subject(truth, probabilities, subjects, scale: GradingScale, visits=None) -> dict:
    """Subject-level results, one per (subject, visit): a subject followed over recovery has a
    grade per visit, so the majority over all its visits (L2, L3, R1 -> L2) would mean nothing
    (issue 22). The visit's label and prediction are majorities over its samples, ties broken
    as :data:`TIE_RULE` says. Data without visits (``visits`` None or empty) has one per subject.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    visits = list(visits) if visits is not None else [""] * len(subjects)
    votes: dict[tuple[str, str], Counter] = defaultdict(Counter)
    labels: dict[tuple[str, str], Counter] = defaultdict(Counter)
    mass: dict[tuple[str, str], np.ndarray] = defaultdict(lambda: np.zeros(len(scale)))
    for t, p, s, v in zip(truth, probabilities, subjects, visits):
        key = (s, v or "")
        votes[key][int(p.argmax())] += 1
        labels[key][int(t)] += 1
        mass[key] += p
    rows = []
    for subject, visit in sorted(votes):
        key = (subject, visit)
        label = _majority(labels[key], np.zeros(len(scale)))  # no probability for the truth
        vote = _majority(votes[key], mass[key])
        samples = sum(votes[key].values())
        rows.append({"subject": subject, "visit": visit, "label": scale.codes[label],
                     "predicted": scale.codes[vote], "samples": samples,
                     "sample_accuracy": votes[key][label] / samples})
    accuracy = np.mean([r["label"] == r["predicted"] for r in rows]) if rows else 0.0
    return {"accuracy": float(accuracy), "per": "subject and visit", "tie_rule": TIE_RULE,
            "subjects": len({r["subject"] for r in rows}), "visits": len(rows), "rows": rows}


def save_confusion_png(metrics: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    counts = np.array(metrics["confusion_matrix"]["counts"])
    figure, axes = plt.subplots(figsize=(1.1 * len(counts) + 2.5, 1.1 * len(counts) + 2))
    ConfusionMatrixDisplay(counts, display_labels=metrics["confusion_matrix"]["labels"]).plot(
        ax=axes, cmap="Blues", colorbar=False, values_format="d")
    axes.set_title(f"{title}\naccuracy {metrics['accuracy']:.3f}, macro F1 {metrics['macro']['f1']:.3f}")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def save_metrics(metrics: dict, folder: Path, name: str, title: str) -> None:
    """The metrics as ``NAME.json`` and the confusion matrix as ``NAME_confusion.png``; the JSON
    last and atomically, so its presence means the fold's test is complete (resume reads it)."""
    from fpgrade.files import write_json

    folder.mkdir(parents=True, exist_ok=True)
    save_confusion_png(metrics, folder / f"{name}_confusion.png", title)
    write_json(folder / f"{name}.json", metrics)
