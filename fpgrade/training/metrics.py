"""Metrics of a set of predictions (scikit-learn where it has them).

- accuracy; per-class and macro precision, recall, F1;
- paper 002's metrics (eq. 5-8): accuracy, recall (tpr), "confidence" (tpa, which is precision)
  and Dice = 2PR / (P + R), per class and macro. Eq. 5 prints (TP - FN) / (TP + FN + FP + TN),
  evidently a typo: the standard accuracy (TP + TN) / (TP + FN + FP + TN) is used;
- confusion matrix (counts, rows = truth), as JSON and as a PNG;
- beyond the papers: quadratic-weighted Cohen's kappa and mean absolute grade error for ordinal
  scales, expected calibration error (15 equal-width confidence bins), per-subject results (the
  subject's label against the majority of its predictions).
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
                    subjects: Sequence[str] | None = None) -> dict:
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
    if scale.ordinal:
        result["quadratic_weighted_kappa"] = (
            float(cohen_kappa_score(truth, predicted, labels=labels, weights="quadratic"))
            if len(set(truth) | set(predicted)) > 1 else None
        )
        result["mean_absolute_grade_error"] = float(np.abs(truth - predicted).mean())
    if subjects is not None:
        result["per_subject"] = per_subject(truth, predicted, subjects, scale)
    return result


def per_subject(truth, predicted, subjects, scale: GradingScale) -> dict:
    votes: dict[str, Counter] = defaultdict(Counter)
    labels: dict[str, Counter] = defaultdict(Counter)
    for t, p, s in zip(truth, predicted, subjects):
        votes[s][int(p)] += 1
        labels[s][int(t)] += 1
    rows = {}
    for subject in sorted(votes):
        label = labels[subject].most_common(1)[0][0]
        vote = votes[subject].most_common(1)[0][0]
        rows[subject] = {"label": scale.codes[label], "predicted": scale.codes[vote],
                         "samples": sum(votes[subject].values()),
                         "sample_accuracy": votes[subject][label] / sum(votes[subject].values())}
    accuracy = np.mean([r["label"] == r["predicted"] for r in rows.values()]) if rows else 0.0
    return {"accuracy": float(accuracy), "subjects": rows}


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
