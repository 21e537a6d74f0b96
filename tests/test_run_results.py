"""What a run leaves for comparing networks afterwards (issue 22): its out-of-fold predictions
(one row per test sample of every fold), complete per-fold figures with the std's ddof and the
reason of every null, subject figures per visit, --select-metric, --seeds, checked --splits, and
evaluate on an external labelled set."""

from __future__ import annotations

import csv
import json
import shutil
from collections import defaultdict

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from fpgrade.media import sha256_file
from fpgrade.models.versions import version_name
from tests.test_training_runs import FAST, run


@pytest.fixture
def data(sided7_in_module_data):
    return sided7_in_module_data


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
    # a fold tested before predictions were saved: said, and `evaluate` writes them
    (out / "fold_0" / "test_predictions.csv").unlink()
    code, stdout, _ = run(capsys, *args, "--resume", "--json")
    assert code == 0 and json.loads(stdout)["predictions_missing_folds"] == [0]
    assert {row["fold"] for row in read_csv(out / "predictions.csv")[1]} == {"1"}
    assert run(capsys, "evaluate", out)[0] == 0
    assert read_csv(out / "predictions.csv")[1] == rows


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


def _manifest_copy(data, name, change):
    """A copy of the manifest beside it (its relative paths still hold), each row changed."""
    with open(data, newline="") as handle:
        reader = csv.DictReader(handle)
        rows = [change(dict(row)) for row in reader]
    path = data.parent / name
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_visits_reach_the_predictions_and_the_subject_figures(data, tmp_path, capsys):
    visits = _manifest_copy(data, "visits.csv", lambda row: {
        **row, "visit": "visit_2" if row["path"].endswith(".mp4") else "visit_1"})
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", *FAST, "--data", visits, "--protocol", "kfold:2", "--epochs", "1",
                       "--out", out)
    assert code == 0, err
    _, rows = read_csv(out / "predictions.csv")
    assert {row["visit"] for row in rows} == {"visit_1", "visit_2"}
    assert all(row["visit"] == ("visit_2" if row["file"].endswith(".mp4") else "visit_1") for row in rows)
    test = json.loads((out / "fold_0" / "test.json").read_text())
    per = test["per_subject"]
    assert per["per"] == "subject and visit" and per["visits"] == 2 * per["subjects"]
    assert {(r["subject"], r["visit"]) for r in per["rows"]} == {
        (row["subject"], row["visit"]) for row in rows if row["fold"] == "0"}


def test_select_metric_chooses_the_kept_epoch_and_is_recorded(data, tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", *FAST, "--data", data, "--protocol", "split:8:3:3", "--epochs", "3",
                       "--select-metric", "accuracy", "--out", out)
    assert code == 0, err
    assert json.loads((out / "run.json").read_text())["select_metric"] == "accuracy"
    history = json.loads((out / "fold_0" / "history.json").read_text())
    scores = [h["val_accuracy"] + 1e-3 * h["val_macro_f1"] for h in history]
    best = max(range(len(scores)), key=lambda i: (scores[i], -i))  # the first of equal scores
    assert json.loads((out / "fold_0" / "test.json").read_text())["best_epoch"] == best
    assert all(h["val_accuracy"] == h["val_accuracy"] for h in history)
    assert json.loads((out / "fold_0" / "best.json").read_text())["select_metric"] == "accuracy"
    for choice, message in (("qwk", "sided7 is not an ordinal scale"), ("mae", "sided7 is not an ordinal scale"),
                            ("f2", "one of macro_f1, qwk, accuracy, mae")):
        code, _, err = run(capsys, "train", *FAST, "--data", data, "--protocol", "split:8:3:3", "--epochs",
                           "1", "--select-metric", choice, "--out", tmp_path / choice)
        assert code == 1 and message in err and len(err.strip().splitlines()) == 1, err
        assert not (tmp_path / choice).exists()


def test_epoch_scores_lower_is_better_for_the_grade_error(registry):
    from fpgrade.training.selection import check_select_metric, epoch_score

    hb = registry.scale("house_brackmann")
    name = check_select_metric("mae", hb)
    close = {"accuracy": 0.5, "macro": {"f1": 0.5}, "mean_absolute_grade_error": 0.5}
    far = {"accuracy": 0.6, "macro": {"f1": 0.6}, "mean_absolute_grade_error": 1.5}
    assert epoch_score(name, close) > epoch_score(name, far)
    kappa = check_select_metric("qwk", hb)
    assert epoch_score(kappa, {"accuracy": 1.0, "macro": {"f1": 1.0}, "quadratic_weighted_kappa": None}) \
        < epoch_score(kappa, {"accuracy": 0.0, "macro": {"f1": 0.0}, "quadratic_weighted_kappa": -1.0})


def test_seeds_run_on_the_same_folds_and_are_aggregated(data, tmp_path, capsys):
    out = tmp_path / "run"
    code, text, err = run(capsys, "train", *FAST, "--data", data, "--protocol", "kfold:2", "--epochs", "1",
                          "--seeds", "0,1", "--out", out)
    assert code == 0, err
    splits = [json.loads((out / f"seed_{s}" / "splits.json").read_text())["folds"] for s in (0, 1)]
    assert splits[0] == splits[1]
    summaries = [json.loads((out / f"seed_{s}" / "summary.json").read_text()) for s in (0, 1)]
    assert [json.loads((out / f"seed_{s}" / "run.json").read_text())["seed"] for s in (0, 1)] == [0, 1]
    result = json.loads((out / "seeds.json").read_text())
    assert result["seeds"] == [0, 1] and result["std_ddof"] == 1 and result["synthetic"] is True
    values = [s["accuracy"]["mean"] for s in summaries]
    assert result["metrics"]["accuracy"]["values"] == values
    assert result["metrics"]["accuracy"]["std"] == pytest.approx(float(np.std(values, ddof=1)))
    assert result["metrics"]["quadratic_weighted_kappa"] is None
    assert "not an ordinal scale" in result["null_reasons"]["quadratic_weighted_kappa"]
    for seed in (0, 1):
        _, rows = read_csv(out / f"seed_{seed}" / "predictions.csv")
        assert {row["seed"] for row in rows} == {str(seed)}
    assert "seed 0" in text and "seed 1" in text and "std (ddof=1)" in text
    assert "sample standard deviation over seeds (ddof=1)" in text and "SYNTHETIC" in text
    code, _, err = run(capsys, "train", *FAST, "--data", data, "--epochs", "1", "--seeds", "0,x",
                       "--out", tmp_path / "bad")
    assert code == 1 and "--seeds '0,x'" in err


def test_reused_splits_refuse_another_protocol_and_subjects_that_do_not_match(data, tmp_path, capsys):
    with open(data, newline="") as handle:
        subjects = sorted({row["subject"] for row in csv.DictReader(handle)})
    splits = tmp_path / "splits.json"

    def write(folds):
        splits.write_text(json.dumps({"protocol": "kfold:2", "seed": 0, "folds": folds}))

    half = len(subjects) // 2
    first, second = subjects[:half], subjects[half:]
    folds = [{"train": second[1:], "val": second[:1], "test": first},
             {"train": first[1:], "val": first[:1], "test": second}]
    write(folds)
    args = ["train", *FAST, "--data", data, "--epochs", "1", "--splits", splits]
    code, _, err = run(capsys, *args, "--protocol", "loso", "--out", tmp_path / "a")
    assert code == 1 and "--protocol loso differs from the protocol of" in err and "(kfold:2)" in err
    assert not (tmp_path / "a").exists()
    write([folds[0], {**folds[1], "test": [*second, "ghost_subject"]}])
    code, _, err = run(capsys, *args, "--out", tmp_path / "b")
    assert code == 1 and "ghost_subject is in splits.json fold 1 but not in the data" in err, err
    write([{**folds[0], "test": first[1:]}, {**folds[1], "train": first[2:], "val": first[1:2]}])
    code, _, err = run(capsys, *args, "--out", tmp_path / "c")
    assert code == 1 and f"of the data are in none of its folds ({first[0]})" in err, err
    write(folds)
    code, _, err = run(capsys, *args, "--protocol", "kfold:2", "--out", tmp_path / "d")
    assert code == 0, err
    assert json.loads((tmp_path / "d" / "run.json").read_text())["protocol"] == "kfold:2"
    code, _, err = run(capsys, *args, "--out", tmp_path / "e")  # no --protocol: the file's
    assert code == 0 and json.loads((tmp_path / "e" / "run.json").read_text())["protocol"] == "kfold:2"


def test_evaluate_grades_an_external_set_with_every_fold_model_and_their_ensemble(data, tmp_path, capsys):
    out = tmp_path / "run"
    assert run(capsys, "train", *FAST, "--data", data, "--protocol", "kfold:2", "--epochs", "1",
               "--out", out)[0] == 0
    external = _manifest_copy(data, "external_set.csv", lambda row: {**row, "subject": "ext_" + row["subject"]})
    code, stdout, err = run(capsys, "evaluate", out, "--data", external, "--json")
    assert code == 0, err
    result = json.loads(stdout)
    assert result["mode"] == "external" and result["synthetic"] is True
    assert "mean of the fold models' class probabilities" in result["combined"]
    assert json.loads((out / "external_external_set.json").read_text())["ensemble"] == result["ensemble"]
    _, rows = read_csv(out / "external_external_set_predictions.csv")
    ensemble = [row for row in rows if row["fold"] == "ensemble"]
    assert len(ensemble) == result["samples"] == len([r for r in rows if r["fold"] == "0"])
    assert {row["subject"] for row in ensemble} == {"ext_" + s for s in
                                                     {r["subject"] for r in read_csv(out / "predictions.csv")[1]}}
    # the ensemble, recomputed from the fold models' rows
    p = {fold: np.array([[float(r[f"p_{c}"]) for c in CODES] for r in rows if r["fold"] == fold])
         for fold in ("0", "1", "ensemble")}
    assert np.allclose((p["0"] + p["1"]) / 2, p["ensemble"], atol=1e-12)
    truth = [int(r["truth_index"]) for r in ensemble]
    assert accuracy_score(truth, p["ensemble"].argmax(axis=1)) == result["ensemble"]["accuracy"]
    assert result["fold_models"]["accuracy"]["values"] == [
        accuracy_score(truth, p[f].argmax(axis=1)) for f in ("0", "1")]
    code, text, _ = run(capsys, "evaluate", out, "--data", external)
    assert code == 0 and "fold ensemble" in text and "SYNTHETIC data" in text
    assert "quadratic weighted kappa: not computed: sided7 is not an ordinal scale" in text


def test_database_runs_name_each_sample_s_medium_and_visit(data, tmp_path, capsys):
    from sqlmodel import select

    from fpgrade.storage import database
    from fpgrade.storage.tables import Media

    copy = tmp_path / "synthetic"
    shutil.copytree(data.parent, copy)
    visits = _manifest_copy(copy / data.name, "visits.csv", lambda row: {
        **row, "visit": "visit_2" if row["path"].endswith(".mp4") else "visit_1"})
    assert run(capsys, "import", visits)[0] == 0
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", *FAST, "--data", "db", "--protocol", "kfold:2", "--epochs", "1",
                       "--out", out)
    assert code == 0, err
    _, rows = read_csv(out / "predictions.csv")
    with database.read_session() as session:
        media = {m.id: m for m in session.exec(select(Media)).all()}
    assert rows and {row["visit"] for row in rows} == {"visit_1", "visit_2"}
    for row in rows:
        medium = media[int(row["medium_id"])]
        assert row["sha256"] == medium.sha256 and row["file"] == str(medium.path)
