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
    assert m["per_subject"]["subjects"]["b"] == {"label": "III", "predicted": "III", "samples": 2,
                                                 "sample_accuracy": 0.5}


def test_side_aware_scales_have_no_ordinal_metrics(registry):
    m = compute_metrics([0, 1], one_hot([0, 1], 7), registry.scale("sided7"))
    assert "quadratic_weighted_kappa" not in m and m["accuracy"] == 1.0


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
