"""Metrics of weighted samples, subject-clustered bootstrap intervals and paired tests.

Every metric is computed from per-sample weights, so that a bootstrap resample of subjects is a
weight vector (a sample weighs as often as its subject was drawn) and no array is copied. With
all weights 1 the figures are those of :mod:`fpgrade.training.metrics` and scikit-learn
(``tests/test_compare_statistics.py`` checks both, and weights against duplicated rows):

- accuracy; macro F1 over the classes present in the truth (as ``compute_metrics``: a class no
  sample has does not count); quadratic-weighted Cohen's kappa (Cohen 1968) and the mean absolute
  grade error for ordinal scales; expected calibration error over 15 equal-width confidence bins
  (Guo et al. 2017; the bins of ``compute_metrics``);
- subject accuracy per visit: each (subject, visit) is one case, its true grade the most common
  truth of its samples, its prediction their most common predicted grade, ties broken as
  :data:`fpgrade.training.metrics.TIE_RULE` says (as the runs' own ``per_subject``); the
  accuracy over cases.

Intervals: the subject-clustered (cluster) bootstrap (Davison & Hinkley 1997, section 3.8; Field &
Welsh 2007): subjects are drawn with replacement, as many as there are, with a seeded generator
(numpy PCG64); the 95 % interval is the percentile interval (2.5th and 97.5th percentiles,
Efron & Tibshirani 1993, ch. 13) of the metric over the resamples. A resample where a metric is
undefined (kappa with one class only) is left out of that metric's interval and counted.

Paired tests between two models on the same samples:

- McNemar's test (McNemar 1947) on the samples' correctness: exact two-sided binomial test of
  the discordant counts b and c when b + c < 25, else the chi-square statistic with Edwards'
  continuity correction (|b - c| - 1)^2 / (b + c), 1 degree of freedom (Edwards 1948). It
  treats samples as independent, which several samples of one subject are not;
- a paired permutation test clustered by subject (approximate randomisation, Noreen 1989; Dror
  et al. 2018): under the null hypothesis the two models' predictions are exchangeable, so each
  subject's predictions are swapped between the models with probability 1/2; the two-sided
  p-value is (1 + #{|d*| >= |d|}) / (1 + N) (Phipson & Smyth 2010), d the observed difference;
- the 95 % interval of the difference from the paired bootstrap (the same subject resamples for
  both models).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import binomtest, chi2

from fpgrade.training.metrics import ECE_BINS

#: the metrics of the table, in its order
METRICS = ("accuracy", "macro_f1", "quadratic_weighted_kappa", "mean_absolute_grade_error",
           "expected_calibration_error", "subject_accuracy")
ORDINAL_ONLY = ("quadratic_weighted_kappa", "mean_absolute_grade_error")
EXACT_BELOW = 25  # discordant pairs under which McNemar's test is the exact binomial test
TIE = 1e-12


@dataclass(frozen=True)
class Samples:
    """What the metrics need of a set of predictions: truth, prediction and probabilities of
    every sample, the subject (index into ``subject_names``) and the (subject, visit) case of
    every sample."""

    truth: np.ndarray
    predicted: np.ndarray
    probabilities: np.ndarray
    subject: np.ndarray
    subject_names: tuple[str, ...]
    case: np.ndarray
    classes: int

    @classmethod
    def build(cls, truth, probabilities, subjects, visits=None, predicted=None) -> Samples:
        probabilities = np.asarray(probabilities, dtype=np.float64)
        truth = np.asarray(truth, dtype=np.int64)
        predicted = probabilities.argmax(axis=1) if predicted is None else np.asarray(predicted, np.int64)
        subjects = np.asarray(subjects, dtype=object)
        visits = np.full(len(truth), "", dtype=object) if visits is None else np.asarray(visits, dtype=object)
        names, subject = np.unique(subjects.astype(str), return_inverse=True)
        pairs = np.array([f"{s}\x00{v}" for s, v in zip(subjects, visits)])
        _, case = np.unique(pairs, return_inverse=True)
        return cls(truth, predicted, probabilities, subject.astype(np.int64), tuple(names),
                   case.astype(np.int64), probabilities.shape[1])

def confusion(truth, predicted, classes: int, weights=None) -> np.ndarray:
    """Weighted confusion matrix, rows = truth."""
    return np.bincount(truth * classes + predicted, weights=weights,
                       minlength=classes * classes).reshape(classes, classes).astype(np.float64)


def accuracy(cm: np.ndarray) -> float:
    total = cm.sum()
    return float(np.trace(cm) / total) if total else float("nan")


def macro_f1(cm: np.ndarray) -> float:
    """Mean F1 over the classes present in the truth (rows with support), 0 where a class is
    never predicted right (``zero_division=0``)."""
    tp, support, predicted = np.diag(cm), cm.sum(axis=1), cm.sum(axis=0)
    present = support > 0
    if not present.any():
        return float("nan")
    denominator = support + predicted
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    return float(f1[present].mean())


def quadratic_kappa(cm: np.ndarray) -> float:
    """Quadratic-weighted Cohen's kappa, as scikit-learn's ``cohen_kappa_score(weights=
    "quadratic")``; NaN where it is undefined (truth and predictions all of one class)."""
    k = len(cm)
    total = cm.sum()
    if not total:
        return float("nan")
    grid = np.arange(k)
    w = (grid[:, None] - grid[None, :]) ** 2
    expected = np.outer(cm.sum(axis=1), cm.sum(axis=0)) / total
    chance = (w * expected).sum()
    return float(1 - (w * cm).sum() / chance) if chance > 0 else float("nan")


def mean_absolute_error(cm: np.ndarray) -> float:
    grid = np.arange(len(cm))
    total = cm.sum()
    return float((np.abs(grid[:, None] - grid[None, :]) * cm).sum() / total) if total else float("nan")


def confidence_bins(probabilities: np.ndarray, bins: int = ECE_BINS) -> np.ndarray:
    """The bin of every sample's confidence: bin i holds (i/bins, (i+1)/bins], as
    :func:`fpgrade.training.metrics.expected_calibration_error`."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    return np.clip(np.searchsorted(edges, probabilities.max(axis=1), side="left") - 1, 0, bins - 1)


def calibration_error(bin_of, confidence, correct, weights, bins: int = ECE_BINS) -> float:
    """Weighted ECE: sum over bins of |sum w*correct - sum w*confidence| / sum w."""
    total = weights.sum()
    if not total:
        return float("nan")
    right = np.bincount(bin_of, weights=weights * correct, minlength=bins)
    sure = np.bincount(bin_of, weights=weights * confidence, minlength=bins)
    return float(np.abs(right - sure).sum() / total)


def reliability(samples: Samples, bins: int = ECE_BINS) -> dict:
    """Per confidence bin: samples, mean confidence and accuracy (the reliability diagram)."""
    bin_of = confidence_bins(samples.probabilities, bins)
    correct = (samples.predicted == samples.truth).astype(float)
    confidence = samples.probabilities.max(axis=1)
    count = np.bincount(bin_of, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {"edges": np.linspace(0, 1, bins + 1).tolist(), "samples": count.tolist(),
                "confidence": (np.bincount(bin_of, confidence, bins) / count).tolist(),
                "accuracy": (np.bincount(bin_of, correct, bins) / count).tolist()}


class Evaluator:
    """Every metric of one set of predictions under any subject weights."""

    def __init__(self, samples: Samples, ordinal: bool) -> None:
        self.s, self.ordinal = samples, ordinal
        self.correct = (samples.predicted == samples.truth).astype(np.float64)
        self.bin_of = confidence_bins(samples.probabilities)
        self.confidence = samples.probabilities.max(axis=1)
        cases = samples.case.max() + 1
        self.case_subject = np.zeros(cases, dtype=np.int64)
        self.case_subject[samples.case] = samples.subject
        # each case's truth: its most common true grade (lowest index on a tie)
        votes = np.zeros((cases, samples.classes))
        np.add.at(votes, (samples.case, samples.truth), 1)
        case_truth = votes.argmax(axis=1)
        # its prediction: the most common predicted grade, a tie to the higher summed probability,
        # then to the grade first in the scale (TIE_RULE of fpgrade.training.metrics): a vote
        # outweighs any probability sum, which is below the most samples a case has + 1
        predicted = np.zeros((cases, samples.classes))
        np.add.at(predicted, (samples.case, samples.predicted), 1)
        mass = np.zeros((cases, samples.classes))
        np.add.at(mass, samples.case, samples.probabilities)
        vote = (predicted * (predicted.sum(axis=1).max() + 1) + mass).argmax(axis=1)
        self.case_correct = (vote == case_truth).astype(np.float64)

    def metrics(self, subject_weights: np.ndarray | None = None) -> dict[str, float]:
        s = self.s
        w = np.ones(len(s.truth)) if subject_weights is None else subject_weights[s.subject]
        cw = np.ones(len(self.case_correct)) if subject_weights is None else subject_weights[self.case_subject]
        cm = confusion(s.truth, s.predicted, s.classes, w)
        result = {"accuracy": accuracy(cm), "macro_f1": macro_f1(cm),
                  "expected_calibration_error": calibration_error(self.bin_of, self.confidence,
                                                                  self.correct, w),
                  "subject_accuracy": float((cw * self.case_correct).sum() / cw.sum())}
        if self.ordinal:
            result["quadratic_weighted_kappa"] = quadratic_kappa(cm)
            result["mean_absolute_grade_error"] = mean_absolute_error(cm)
        return result


def bootstrap_weights(subjects: int, resamples: int, seed: int) -> np.ndarray:
    """(resamples, subjects) counts: how often each subject is drawn in each resample."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, subjects, size=(resamples, subjects))
    counts = np.zeros((resamples, subjects), dtype=np.float64)
    np.add.at(counts, (np.repeat(np.arange(resamples), subjects), draws.ravel()), 1)
    return counts


def interval(values: np.ndarray, level: float = 0.95) -> tuple[float | None, float | None, int]:
    """Percentile interval of the defined values, and how many were undefined."""
    values = np.asarray(values, dtype=np.float64)
    defined = values[np.isfinite(values)]
    if not len(defined):
        return None, None, len(values)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(defined, [tail, 100 - tail])
    return float(low), float(high), int(len(values) - len(defined))


def mcnemar(correct_a, correct_b) -> dict:
    """McNemar's test of paired correctness (see the module docstring)."""
    a, b_ = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
    b, c = int((a & ~b_).sum()), int((~a & b_).sum())
    n = b + c
    if n < EXACT_BELOW:
        p = 1.0 if n == 0 else float(binomtest(b, n, 0.5).pvalue)
        return {"b": b, "c": c, "statistic": None, "p": p, "method": "exact binomial"}
    statistic = (abs(b - c) - 1) ** 2 / n
    return {"b": b, "c": c, "statistic": float(statistic), "p": float(chi2.sf(statistic, 1)),
            "method": "chi-square, continuity corrected"}


PAIRED = {"accuracy": accuracy, "macro_f1": macro_f1, "quadratic_weighted_kappa": quadratic_kappa}


def permutation_test(a: Samples, b: Samples, names, permutations: int, seed: int) -> dict:
    """Two-sided p-values of ``metric(a) - metric(b)`` for each metric of ``names`` (of
    :data:`PAIRED`), swapping subjects' predictions between the models (see the module
    docstring). Per metric: ``{"p": p or None (observed difference undefined), "undefined":
    permutations left out because the difference was undefined there}``."""
    k = a.classes

    def differences(pa, pb) -> np.ndarray:
        ca, cb = confusion(a.truth, pa, k), confusion(b.truth, pb, k)
        return np.array([PAIRED[n](ca) - PAIRED[n](cb) for n in names])

    observed = differences(a.predicted, b.predicted)
    rng = np.random.default_rng(seed)
    beyond, undefined = np.zeros(len(names)), np.zeros(len(names))
    for _ in range(permutations):
        swap = (rng.random(len(a.subject_names)) < 0.5)[a.subject]
        d = differences(np.where(swap, b.predicted, a.predicted), np.where(swap, a.predicted, b.predicted))
        undefined += ~np.isfinite(d)
        with np.errstate(invalid="ignore"):
            beyond += np.abs(d) >= np.abs(observed) - TIE
    result = {}
    for i, name in enumerate(names):
        done = permutations - undefined[i]
        p = float((1 + beyond[i]) / (1 + done)) if np.isfinite(observed[i]) else None
        result[name] = {"p": p, "undefined": int(undefined[i])}
    return result
