"""Metrics against scikit-learn and the papers' definitions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from fpgrade.training.metrics import compute_metrics, expected_calibration_error, save_metrics


def one_hot(predicted, classes, confidence=0.9):
    p = np.full((len(predicted), classes), (1 - confidence) / (classes - 1))
    p[np.arange(len(predicted)), predicted] = confidence
    return p


def test_metrics_match_scikit_learn_and_paper_002(registry):
    hb = registry.scale("house_brackmann")
    truth = [0, 1, 2, 2, 3, 4, 5, 5, 1, 0]
    predicted = [0, 1, 2, 3, 3, 4, 5, 4, 2, 0]
    m = compute_metrics(truth, one_hot(predicted, 6), hb, subjects=list("aabbccddee"))
    assert m["accuracy"] == pytest.approx(accuracy_score(truth, predicted))
    assert m["macro"]["f1"] == pytest.approx(f1_score(truth, predicted, average="macro"))
    for code, row in m["per_class"].items():
        p, r = row["precision"], row["recall"]
        assert row["dice"] == pytest.approx(0 if p + r == 0 else 2 * p * r / (p + r))
    assert m["macro"]["confidence"] == m["macro"]["precision"]  # paper 002's "confidence"
    assert m["confusion_matrix"]["counts"][5] == [0, 0, 0, 0, 1, 1]
    assert m["mean_absolute_grade_error"] == pytest.approx(0.3)
    assert 0.8 < m["quadratic_weighted_kappa"] <= 1
    b = next(row for row in m["per_subject"]["rows"] if row["subject"] == "b")
    # b's two samples are III (predicted III) and III (predicted IV): a tie of votes, broken by
    # the summed probability (equal here), then by the scale's order: III
    assert b == {"subject": "b", "visit": "", "label": "III", "predicted": "III", "samples": 2,
                 "sample_accuracy": 0.5}
    assert m["null_reasons"] == {}


def test_side_aware_scales_have_no_ordinal_metrics_and_say_why(registry):
    m = compute_metrics([0, 1], one_hot([0, 1], 7), registry.scale("sided7"))
    assert m["quadratic_weighted_kappa"] is None and m["mean_absolute_grade_error"] is None
    assert m["accuracy"] == 1.0
    assert "sided7 is not an ordinal scale" in m["null_reasons"]["quadratic_weighted_kappa"]
    assert "L3 and R1" in m["null_reasons"]["mean_absolute_grade_error"]


def test_a_kappa_of_one_grade_is_null_with_its_reason(registry):
    m = compute_metrics([2, 2], one_hot([2, 2], 6), registry.scale("house_brackmann"))
    assert m["quadratic_weighted_kappa"] is None and m["mean_absolute_grade_error"] == 0.0
    assert m["null_reasons"]["quadratic_weighted_kappa"] == "every truth and prediction is III: the kappa is 0/0"


def test_subject_figures_are_per_visit(registry):
    """Issue 22: a subject followed over three visits (L2, L3, R1) is three results, not one
    majority "L2" over all of them."""
    sided7 = registry.scale("sided7")
    codes = list(sided7.codes)
    truth = [codes.index(c) for c in ("L2", "L2", "L3", "L3", "R1", "R1")]
    predicted = [codes.index(c) for c in ("L2", "L2", "L3", "L3", "R1", "N")]
    p = one_hot(predicted, 7)
    p[5, 0], p[5, 4] = 0.5, 0.4  # visit 3: one vote each, N (0.5 in all) against R1 (0.9 + 0.4): R1
    m = compute_metrics(truth, p, sided7, subjects=["s"] * 6, visits=["v1", "v1", "v2", "v2", "v3", "v3"])
    rows = {row["visit"]: row for row in m["per_subject"]["rows"]}
    assert {v: (r["label"], r["predicted"]) for v, r in rows.items()} == {
        "v1": ("L2", "L2"), "v2": ("L3", "L3"), "v3": ("R1", "R1")}
    assert m["per_subject"]["accuracy"] == 1.0
    assert (m["per_subject"]["subjects"], m["per_subject"]["visits"]) == (1, 3)
    assert m["per_subject"]["per"] == "subject and visit" and "tie" in m["per_subject"]["tie_rule"]
    tied = one_hot([codes.index("N"), codes.index("R1")], 7)  # a 1-1 tie at equal probability
    m = compute_metrics([4, 4], tied, sided7, subjects=["t", "t"], visits=["x", "x"])
    assert m["per_subject"]["rows"][0]["predicted"] == "N"  # first in the scale's order
    m = compute_metrics(truth, p, sided7, subjects=["s"] * 6)  # no visits: one per subject
    assert m["per_subject"]["visits"] == 1 and m["per_subject"]["rows"][0]["visit"] == ""


def test_summary_states_sample_std_and_why_a_figure_is_missing(registry):
    from fpgrade.training.summary import summarise

    sided7 = registry.scale("sided7")
    folds = []
    for index, predicted in enumerate(([0, 1, 2], [0, 1, 1], [0, 0, 0])):
        m = compute_metrics([0, 1, 2], one_hot(predicted, 7), sided7, subjects=["a", "b", "c"])
        folds.append({**m, "fold": index})
    summary = summarise(folds)
    accuracies = [1.0, 2 / 3, 1 / 3]
    assert summary["std_ddof"] == 1
    assert summary["accuracy"]["std"] == pytest.approx(np.std(accuracies, ddof=1))
    assert summary["accuracy"]["mean"] == pytest.approx(np.mean(accuracies))
    assert summary["accuracy"]["values"] == pytest.approx(accuracies) and summary["accuracy"]["n"] == 3
    assert summary["quadratic_weighted_kappa"] is None
    assert "not an ordinal scale" in summary["null_reasons"]["quadratic_weighted_kappa"]
    assert summary["folds"][1]["per_class"]["L1"]["support"] == 1
    assert summary["folds"][2]["confusion_matrix"]["counts"][1][0] == 1
    assert summary["pooled_confusion_matrix"]["counts"][0][0] == 3 and summary["samples"] == 9
    one = summarise(folds[:1])
    assert one["accuracy"]["std"] is None and "at least two" in one["accuracy"]["std_reason"]


def test_expected_calibration_error():
    truth = np.array([0, 1, 0, 1])
    assert expected_calibration_error(np.array([[1.0, 0], [0, 1], [1, 0], [0, 1]]), truth) == 0.0
    overconfident = np.array([[0.99, 0.01]] * 4)  # always says class 0 at 99 %, right half the time
    assert expected_calibration_error(overconfident, truth) == pytest.approx(0.49)


def test_confusion_matrix_png_and_json(registry, tmp_path):
    m = compute_metrics([0, 1, 1], one_hot([0, 1, 0], 2), registry.scale("palsy_binary"))
    save_metrics(m, tmp_path, "test", "demo")
    assert json.loads((tmp_path / "test.json").read_text())["accuracy"] == pytest.approx(2 / 3)
    png = (tmp_path / "test_confusion.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000
