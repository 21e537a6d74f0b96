"""What a run leaves for comparing networks afterwards (issue 22): its out-of-fold predictions
(one row per test sample of every fold) and the description ``fpgrade compare`` reads."""

from __future__ import annotations

import csv
import json
from collections import defaultdict

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from fpgrade.media import sha256_file
from fpgrade.models.versions import version_name
from tests.test_training_runs import FAST, run


@pytest.fixture(scope="module")
def module_data_dir(tmp_path_factory):
    """One data folder (database and landmark cache) for the module: faces analysed once."""
    from tests.conftest import _clear_caches

    data_dir = tmp_path_factory.mktemp("predictions-data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FPGRADE_DATA_DIR", str(data_dir))
        _clear_caches()
        yield data_dir
    _clear_caches()


@pytest.fixture
def data(synthetic_sided7, module_data_dir, monkeypatch):
    from tests.conftest import _clear_caches

    monkeypatch.setenv("FPGRADE_DATA_DIR", str(module_data_dir))
    _clear_caches()
    return synthetic_sided7


def read_csv(path):
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        return reader.fieldnames, list(reader)


CODES = ["N", "L1", "L2", "L3", "R1", "R2", "R3"]


def test_a_run_saves_its_out_of_fold_predictions(data, tmp_path, capsys, registry):
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", *FAST, "--data", data, "--protocol", "kfold:3", "--epochs", "2",
                       "--seed", "5", "--out", out, "--json")
    assert code == 0, err
    assert list(registry.scale("sided7").codes) == CODES
    info = json.loads((out / "run.json").read_text())
    assert {k: info[k] for k in ("scale", "model", "seed", "protocol", "synthetic", "classes")} == {
        "scale": "sided7", "model": "asymmetry_classifier", "seed": 5, "protocol": "kfold:3",
        "synthetic": True, "classes": CODES}

    header, rows = read_csv(out / "predictions.csv")
    assert header == ["fold", "subject", "visit", "medium_id", "file", "sha256", "truth", "truth_index",
                      "predicted", "predicted_index", *(f"p_{c}" for c in CODES), "model",
                      "model_version", "seed", "synthetic"]
    with open(data, newline="") as handle:  # the manifest: every file's subject and label
        manifest = {row["path"]: row for row in csv.DictReader(handle)}
    by_name = {(data.parent / path).resolve(): row for path, row in manifest.items()}
    folds = [json.loads((out / f"fold_{i}" / "test.json").read_text()) for i in range(3)]
    assert len(rows) == sum(fold["samples"] for fold in folds)
    fold_of = defaultdict(set)
    for row in rows:
        fold_of[row["subject"]].add(int(row["fold"]))
        source = by_name[(data.parent / row["file"]).resolve()]
        assert row["subject"] == source["subject"] and row["truth"] == source["label"]
        assert row["truth"] == CODES[int(row["truth_index"])]
        assert row["predicted"] == CODES[int(row["predicted_index"])]
        probabilities = np.array([float(row[f"p_{c}"]) for c in CODES])
        assert probabilities.sum() == pytest.approx(1.0, abs=1e-5) and (probabilities >= 0).all()
        assert int(np.argmax(probabilities)) == int(row["predicted_index"])
        assert row["sha256"] == sha256_file(row["file"])
        assert (row["visit"], row["medium_id"]) == ("", "")  # a manifest without visits
        weights = out / f"fold_{row['fold']}" / "best.safetensors"
        assert row["model_version"] == version_name("asymmetry_classifier", sha256_file(weights))
        assert (row["model"], row["seed"], row["synthetic"]) == ("asymmetry_classifier", "5", "true")
    # each subject in exactly one fold, the one whose test subjects name it; all subjects tested
    assert all(len(f) == 1 for f in fold_of.values())
    for index, fold in enumerate(folds):
        assert {s for s, f in fold_of.items() if f == {index}} == set(fold["test_subjects"])
    assert set(fold_of) == set(manifest[path]["subject"] for path in manifest)
    # the figures of every fold, recomputed from the file alone
    for index, fold in enumerate(folds):
        mine = [row for row in rows if row["fold"] == str(index)]
        truth = [int(row["truth_index"]) for row in mine]
        predicted = [int(np.argmax([float(row[f"p_{c}"]) for c in CODES])) for row in mine]
        assert len(mine) == fold["samples"]
        assert accuracy_score(truth, predicted) == fold["accuracy"]
        present = sorted(set(truth))
        assert f1_score(truth, predicted, labels=present, average="macro", zero_division=0) \
            == pytest.approx(fold["macro"]["f1"], abs=1e-12)

    # evaluate on the run's own data writes the same predictions again
    before = (out / "predictions.csv").read_text()
    (out / "predictions.csv").unlink()
    code, _, err = run(capsys, "evaluate", out, "--json")
    assert code == 0, err
    assert (out / "predictions.csv").read_text() == before


def test_a_resumed_run_keeps_the_predictions_of_folds_tested_before(data, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", *FAST, "--data", data, "--protocol", "kfold:2", "--epochs", "1", "--out", out]
    assert run(capsys, *args, "--fold", "0")[0] == 0
    _, first = read_csv(out / "predictions.csv")
    assert {row["fold"] for row in first} == {"0"}
    assert run(capsys, *args, "--resume")[0] == 0
    _, rows = read_csv(out / "predictions.csv")
    assert {row["fold"] for row in rows} == {"0", "1"}
    assert [row for row in rows if row["fold"] == "0"] == first


def test_every_fold_has_complete_figures_and_the_summary_says_what_std_is(data, tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, err = run(capsys, "train", *FAST, "--data", data, "--protocol", "kfold:3", "--epochs", "1",
                            "--out", out, "--json")
    assert code == 0, err
    summary = json.loads(stdout)
    assert json.loads((out / "summary.json").read_text()) == summary
    assert summary["std_ddof"] == 1
    for index, entry in enumerate(summary["folds"]):
        test = json.loads((out / f"fold_{index}" / "test.json").read_text())
        for key in ("accuracy", "expected_calibration_error", "quadratic_weighted_kappa",
                    "mean_absolute_grade_error", "per_class", "confusion_matrix", "null_reasons"):
            assert key in test and entry[key] == test[key]
        assert entry["macro_f1"] == test["macro"]["f1"] and entry["samples"] == test["samples"]
        assert set(test["per_class"]) == set(CODES)
        assert all(set(row) >= {"precision", "recall", "f1", "support"} for row in test["per_class"].values())
        assert sum(map(sum, test["confusion_matrix"]["counts"])) == test["samples"]
        assert "sided7 is not an ordinal scale" in test["null_reasons"]["quadratic_weighted_kappa"]
    accuracies = [entry["accuracy"] for entry in summary["folds"]]
    assert summary["accuracy"]["std"] == pytest.approx(float(np.std(accuracies, ddof=1)))
    assert summary["accuracy"]["values"] == accuracies
    assert summary["quadratic_weighted_kappa"] is None and summary["mean_absolute_grade_error"] is None
    assert "not an ordinal scale" in summary["null_reasons"]["mean_absolute_grade_error"]
    pooled = np.sum([np.array(e["confusion_matrix"]["counts"]) for e in summary["folds"]], axis=0)
    assert summary["pooled_confusion_matrix"]["counts"] == pooled.tolist()

    code, text, err = run(capsys, "evaluate", out)
    assert code == 0, err
    assert "std (ddof=1)" in text and "sample standard deviation over folds (ddof=1)" in text
    assert "quadratic weighted kappa: not computed: sided7 is not an ordinal scale" in text
    assert "SYNTHETIC data" in text
    code, stdout, _ = run(capsys, "evaluate", out, "--json")
    evaluation = json.loads(stdout)
    assert code == 0 and evaluation["synthetic"] is True and evaluation["std_ddof"] == 1
    assert evaluation["null_reasons"] == summary["null_reasons"]
    assert evaluation["accuracy"]["values"] == accuracies  # the same weights, the same samples
