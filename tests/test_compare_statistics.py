"""The statistics of ``fpgrade compare`` against independent recomputations: scikit-learn and
``fpgrade.training.metrics`` for the metrics, duplicated rows for the bootstrap weights, the 2x2
table by hand for McNemar, full enumeration for the permutation test."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.stats import binomtest
from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score

from fpgrade.compare import statistics as st
from fpgrade.training.metrics import compute_metrics, expected_calibration_error, per_subject
from tests.compare_helpers import noisy_probabilities


def _data(n=120, classes=4, subjects=15, skill=1.5, seed=3):
    rng = np.random.default_rng(seed)
    truth = rng.integers(classes, size=n)
    probabilities = noisy_probabilities(truth, classes, skill, seed)
    subject = np.array([f"p{i:02d}" for i in rng.integers(subjects, size=n)], dtype=object)
    visit = np.array([f"v{i}" for i in rng.integers(2, size=n)], dtype=object)
    return truth, probabilities, subject, visit


def _sklearn(truth, predicted, probabilities, classes):
    present = sorted(set(truth))
    return {"accuracy": accuracy_score(truth, predicted),
            "macro_f1": f1_score(truth, predicted, labels=present, average="macro", zero_division=0),
            "quadratic_weighted_kappa": cohen_kappa_score(truth, predicted, labels=list(range(classes)),
                                                          weights="quadratic"),
            "mean_absolute_grade_error": float(np.abs(truth - predicted).mean()),
            "expected_calibration_error": expected_calibration_error(probabilities, truth)}


def test_metrics_match_scikit_learn_and_compute_metrics(registry):
    truth, probabilities, subject, visit = _data()
    samples = st.Samples.build(truth, probabilities, subject, visit)
    ours = st.Evaluator(samples, ordinal=True).metrics()
    expected = _sklearn(truth, probabilities.argmax(axis=1), probabilities, 4)
    for name, value in expected.items():
        assert ours[name] == pytest.approx(value, abs=1e-12), name
    scale = registry.scale("house_brackmann")  # ordinal; 6 classes, 2 never occur
    wide = np.hstack([probabilities, np.zeros((len(truth), 2))])
    reference = compute_metrics(truth, wide, scale)
    ours = st.Evaluator(st.Samples.build(truth, wide, subject, visit), ordinal=True).metrics()
    assert ours["accuracy"] == pytest.approx(reference["accuracy"])
    assert ours["macro_f1"] == pytest.approx(reference["macro"]["f1"])
    assert ours["quadratic_weighted_kappa"] == pytest.approx(reference["quadratic_weighted_kappa"])
    assert ours["mean_absolute_grade_error"] == pytest.approx(reference["mean_absolute_grade_error"])
    assert ours["expected_calibration_error"] == pytest.approx(reference["expected_calibration_error"])


def test_confidences_on_bin_edges_fall_in_the_bins_of_compute_metrics():
    truth = np.array([0, 1, 0, 1, 0])
    edge = np.linspace(0, 1, 16)
    confidence = np.array([edge[6], edge[7], edge[14], 1.0, edge[8] + 1e-9])
    probabilities = np.column_stack([confidence, 1 - confidence])
    samples = st.Samples.build(truth, probabilities, ["a"] * 5)
    assert st.Evaluator(samples, ordinal=False).metrics()["expected_calibration_error"] == pytest.approx(
        expected_calibration_error(probabilities, truth), abs=1e-12)


def test_subject_weights_equal_duplicated_subjects():
    """A bootstrap resample as weights gives what the resample written out row by row gives."""
    truth, probabilities, subject, visit = _data(seed=5)
    samples = st.Samples.build(truth, probabilities, subject, visit)
    evaluator = st.Evaluator(samples, ordinal=True)
    weights = st.bootstrap_weights(len(samples.subject_names), 3, seed=11)
    for row in weights:
        chosen = np.concatenate([np.flatnonzero(samples.subject == s) for s, count in enumerate(row)
                                 for _ in range(int(count))])
        t, p = truth[chosen], probabilities[chosen]
        expected = _sklearn(t, p.argmax(axis=1), p, 4)
        got = evaluator.metrics(row)
        for name, value in expected.items():
            assert got[name] == pytest.approx(value, abs=1e-12), name


def test_subject_accuracy_is_per_visit_as_the_runs_own(registry):
    """Issue 22: L2, L3, R1 over three visits is not one subject labelled "L2"; a visit's vote
    and its ties as :func:`fpgrade.training.metrics.per_subject` (the run's own figure)."""
    # subject a: visit 1 grade 2 (right); visit 2 grade 3, two samples voting 3 and 4, a tie
    # won by 3 (summed probability 1.1 against 0.9); visit 3 grade 4 (wrong); subject b: right
    truth = np.array([2, 3, 3, 4, 0])
    probabilities = np.array([[0, 0, .9, .1, 0, 0, 0], [0, 0, 0, .4, .6, 0, 0], [0, 0, 0, .7, .3, 0, 0],
                              [0, 0, .7, .3, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0]])
    subjects, visits = ["a", "a", "a", "a", "b"], ["1", "2", "2", "3", ""]
    samples = st.Samples.build(truth, probabilities, subjects, visits)
    assert st.Evaluator(samples, ordinal=False).metrics()["subject_accuracy"] == pytest.approx(3 / 4)
    scale = registry.scale("sided7")
    assert per_subject(truth, probabilities, subjects, scale, visits)["accuracy"] == pytest.approx(3 / 4)
    for seed in range(5):  # many ties: 3 classes, 1 to 3 samples per visit
        rng = np.random.default_rng(seed)
        n = 90
        truth = rng.integers(3, size=n)
        probabilities = noisy_probabilities(truth, 3, 0.5, seed)
        subjects = [f"s{i}" for i in rng.integers(12, size=n)]
        visits = [f"v{i}" for i in rng.integers(3, size=n)]
        samples = st.Samples.build(truth, probabilities, subjects, visits)
        wide = np.hstack([probabilities, np.zeros((n, 4))])
        assert st.Evaluator(samples, ordinal=False).metrics()["subject_accuracy"] == pytest.approx(
            per_subject(truth, wide, subjects, scale, visits)["accuracy"], abs=1e-12)


def test_bootstrap_is_reproducible_by_seed_and_draws_whole_subjects():
    first, again = st.bootstrap_weights(9, 50, seed=4), st.bootstrap_weights(9, 50, seed=4)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, st.bootstrap_weights(9, 50, seed=5))
    assert (first.sum(axis=1) == 9).all() and (first >= 0).all()


def test_the_interval_contains_the_point_estimate_and_narrows_with_more_subjects():
    widths = []
    for subjects in (10, 200):
        truth, probabilities, subject, visit = _data(n=20 * subjects, subjects=subjects, seed=7)
        samples = st.Samples.build(truth, probabilities, subject, visit)
        evaluator = st.Evaluator(samples, ordinal=True)
        point = evaluator.metrics()
        draws = [evaluator.metrics(w) for w in st.bootstrap_weights(subjects, 400, seed=0)]
        for name in ("accuracy", "macro_f1", "quadratic_weighted_kappa", "subject_accuracy"):
            low, high, undefined = st.interval([d[name] for d in draws])
            assert low <= point[name] <= high and undefined == 0, name
        low, high, _ = st.interval([d["accuracy"] for d in draws])
        widths.append(high - low)
    assert widths[1] < widths[0] / 2


def test_an_undefined_metric_is_left_out_of_the_interval_and_counted():
    low, high, undefined = st.interval([0.5, float("nan"), 0.7, 0.6])
    assert undefined == 1 and 0.5 <= low < high <= 0.7
    assert st.interval([float("nan")] * 3) == (None, None, 3)
    one_class = st.confusion(np.array([1, 1]), np.array([1, 1]), 3)
    assert math.isnan(st.quadratic_kappa(one_class))


def _chi_square_sf_one_df(x: float) -> float:
    """P(chi2(1) > x) = erfc(sqrt(x / 2)): a chi-square with 1 df is a squared standard normal."""
    return math.erfc(math.sqrt(x / 2))


@pytest.mark.parametrize(("b", "c"), [(0, 0), (3, 0), (7, 2), (12, 12), (20, 4), (30, 12), (5, 60)])
def test_mcnemar_from_the_two_by_two_table(b, c):
    both, neither = 10, 6
    a_right = np.array([True] * both + [True] * b + [False] * c + [False] * neither)
    b_right = np.array([True] * both + [False] * b + [True] * c + [False] * neither)
    result = st.mcnemar(a_right, b_right)
    assert (result["b"], result["c"]) == (b, c)
    if b + c < 25:
        assert result["method"] == "exact binomial"
        expected = 1.0 if b + c == 0 else binomtest(b, b + c, 0.5, alternative="two-sided").pvalue
        # by hand: twice the smaller tail of Binomial(b + c, 1/2), at most 1
        n, k = b + c, min(b, c)
        by_hand = min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n) if n else 1.0
        assert result["p"] == pytest.approx(expected) == pytest.approx(by_hand)
    else:
        statistic = (abs(b - c) - 1) ** 2 / (b + c)
        assert result["method"] == "chi-square, continuity corrected"
        assert result["statistic"] == pytest.approx(statistic)
        assert result["p"] == pytest.approx(_chi_square_sf_one_df(statistic), rel=1e-9)


def _exact_permutation_p(a, b, metric):
    """The permutation p-value over all 2^subjects swaps (the Monte-Carlo test estimates it)."""
    fn = st.PAIRED[metric]
    observed = fn(st.confusion(a.truth, a.predicted, a.classes)) - fn(st.confusion(b.truth, b.predicted, b.classes))
    hits = total = 0
    for pattern in itertools.product([False, True], repeat=len(a.subject_names)):
        swap = np.array(pattern)[a.subject]
        pa, pb = np.where(swap, b.predicted, a.predicted), np.where(swap, a.predicted, b.predicted)
        d = fn(st.confusion(a.truth, pa, a.classes)) - fn(st.confusion(b.truth, pb, b.classes))
        total += 1
        hits += abs(d) >= abs(observed) - 1e-12
    return hits / total


def test_permutation_test_estimates_the_exact_enumeration():
    truth, probabilities, subject, visit = _data(n=60, subjects=8, skill=1.0, seed=2)
    other = noisy_probabilities(truth, 4, 0.3, 9)
    a = st.Samples.build(truth, probabilities, subject, visit)
    b = st.Samples.build(truth, other, subject, visit)
    result = st.permutation_test(a, b, ["accuracy", "macro_f1", "quadratic_weighted_kappa"], 4000, seed=1)
    for metric, test in result.items():
        assert test["p"] == pytest.approx(_exact_permutation_p(a, b, metric), abs=0.04), metric
        assert test["p"] >= 1 / 4001
    again = st.permutation_test(a, b, ["accuracy"], 4000, seed=1)
    assert again["accuracy"] == result["accuracy"]


def test_identical_models_are_not_different():
    truth, probabilities, subject, visit = _data(seed=8)
    a = st.Samples.build(truth, probabilities, subject, visit)
    result = st.permutation_test(a, a, ["accuracy", "macro_f1"], 200, seed=0)
    assert result["accuracy"]["p"] == result["macro_f1"]["p"] == 1.0
    assert st.mcnemar(a.predicted == a.truth, a.predicted == a.truth)["p"] == 1.0
