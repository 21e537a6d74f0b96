"""``fpgrade compare`` on run folders written here in the out-of-fold format: the refusals (one
line naming the runs), the tables and their figures recomputed from the CSV rows, n/a with its
reason, the SYNTHETIC mark, multi-seed runs and the report."""

from __future__ import annotations

import base64
import csv
import json
import re
import shutil

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from fpgrade.cli import main
from tests.compare_helpers import make_folds, noisy_probabilities, samples, write_run

SEVERITY3 = ("I", "II", "III")
SIDED7 = ("N", "L1", "L2", "L3", "R1", "R2", "R3")
FAST = ["--bootstrap", "200", "--permutations", "200"]


def run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _pair(tmp_path, *, codes=SEVERITY3, scale="severity3", synthetic=(False, False), visits=1):
    rows = samples(subjects=12, per_subject=3, visits=visits, classes=len(codes))
    folds = make_folds(sorted({r["subject"] for r in rows}), 3)
    truth = np.array([r["truth_index"] for r in rows])
    a = write_run(tmp_path / "a", rows, noisy_probabilities(truth, len(codes), 2.0, 1), model="model_a",
                  codes=codes, scale=scale, folds=folds, synthetic=synthetic[0])
    b = write_run(tmp_path / "b", rows, noisy_probabilities(truth, len(codes), 0.3, 2), model="model_b",
                  codes=codes, scale=scale, folds=folds, synthetic=synthetic[1])
    return a, b, rows, folds


def _rows(folder):
    with open(folder / "predictions.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def _predictions(folder):
    rows = sorted(_rows(folder), key=lambda r: (r["subject"], r["visit"], r["sha256"]))
    truth = np.array([int(r["truth_index"]) for r in rows])
    return rows, truth, np.array([int(r["predicted_index"]) for r in rows])


def test_the_table_recomputed_from_the_predictions(tmp_path, capsys, isolated_settings):
    a, b, _, _ = _pair(tmp_path, visits=2)
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "compare", a, b, "--out", out, *FAST, "--json")
    assert code == 0, err
    comparison = json.loads(stdout)
    assert comparison == json.loads((out / "comparison.json").read_text())
    for row, folder in zip(comparison["rows"], (a, b)):
        rows, truth, predicted = _predictions(folder)
        figures = row["metrics"]
        assert figures["accuracy"]["value"] == pytest.approx(accuracy_score(truth, predicted))
        assert figures["macro_f1"]["value"] == pytest.approx(f1_score(truth, predicted, average="macro"))
        assert row["subjects"] == 12 and row["samples"] == 72 and row["cases"] == 24
        for figure in figures.values():
            assert figure["low"] <= figure["value"] <= figure["high"]
        bins = row["reliability"]  # the reliability diagram's bins are the ECE's
        filled = [i for i, n in enumerate(bins["samples"]) if n]
        assert sum(bins["samples"]) == 72
        assert figures["expected_calibration_error"]["value"] == pytest.approx(sum(
            bins["samples"][i] / 72 * abs(bins["accuracy"][i] - bins["confidence"][i]) for i in filled))
        counts = np.zeros((3, 3))
        np.add.at(counts, (truth, predicted), 1)
        assert row["confusion_matrix"]["counts"] == counts.tolist()
    rows_a, truth, pred_a = _predictions(a)
    _, _, pred_b = _predictions(b)
    (pair,) = comparison["pairs"]
    b_count = int(((pred_a == truth) & (pred_b != truth)).sum())
    c_count = int(((pred_a != truth) & (pred_b == truth)).sum())
    assert (pair["mcnemar"]["b"], pair["mcnemar"]["c"]) == (b_count, c_count)
    assert pair["accuracy"]["value"] == pytest.approx((pred_a == truth).mean() - (pred_b == truth).mean())
    assert pair["accuracy"]["p_permutation"] < 0.05 and pair["mcnemar"]["p"] < 0.05
    # the same figures in every table
    table = list(csv.DictReader(open(out / "table.csv")))
    assert float(table[0]["accuracy"]) == pytest.approx(comparison["rows"][0]["metrics"]["accuracy"]["value"])
    markdown = (out / "table.md").read_text()
    shown = comparison["rows"][1]["metrics"]["macro_f1"]
    assert f"{shown['value']:.3f} [{shown['low']:.3f}, {shown['high']:.3f}]" in markdown
    assert r"\toprule" in (out / "table.tex").read_text() and "model\\_a" in (out / "table.tex").read_text()
    pairs = list(csv.DictReader(open(out / "pairs.csv")))
    assert int(pairs[0]["mcnemar_b"]) == b_count
    # printed: the Markdown table
    code, stdout, _ = run(capsys, "compare", a, b, *FAST)
    assert code == 0 and stdout.startswith("**Out-of-fold comparison on severity3") and "| model_a |" in stdout


def test_the_bootstrap_seed_reproduces_the_intervals(tmp_path, capsys, isolated_settings):
    a, b, _, _ = _pair(tmp_path)
    outputs = [json.loads(run(capsys, "compare", a, b, *FAST, "--seed", str(seed), "--json")[1])
               for seed in (3, 3, 4)]
    assert outputs[0] == outputs[1]
    assert outputs[0]["rows"][1]["metrics"]["expected_calibration_error"] != outputs[2]["rows"][1]["metrics"]["expected_calibration_error"]


def test_qwk_on_a_scale_without_order_is_na_with_the_reason(tmp_path, capsys, isolated_settings):
    a, b, _, _ = _pair(tmp_path, codes=SIDED7, scale="sided7")
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "compare", a, b, *FAST, "--out", out)
    assert code == 0, err
    assert "n/a" in stdout and "n/a: sided7 is not an ordinal scale: QWK and MAE need ordered grades" in stdout
    comparison = json.loads((out / "comparison.json").read_text())
    assert comparison["rows"][0]["metrics"]["quadratic_weighted_kappa"]["value"] is None
    assert comparison["pairs"][0]["quadratic_weighted_kappa"]["value"] is None
    assert "n/a" in (out / "table.tex").read_text()


def test_synthetic_is_marked_in_every_table(tmp_path, capsys, isolated_settings):
    a, b, _, _ = _pair(tmp_path, synthetic=(False, True))
    out = tmp_path / "out"
    code, stdout, _ = run(capsys, "compare", a, b, *FAST, "--out", out)
    assert code == 0
    titles = [line for line in (out / "table.md").read_text().splitlines() if line.startswith("**")]
    assert len(titles) == 2 and all("SYNTHETIC data: not a clinical result" in t for t in titles)
    assert [r["synthetic"] for r in csv.DictReader(open(out / "table.csv"))] == ["false", "true"]
    assert [r["synthetic"] for r in csv.DictReader(open(out / "pairs.csv"))] == ["true"]
    tex = (out / "table.tex").read_text()
    assert tex.count(r"\caption{") == 2 and tex.count("SYNTHETIC data") == 2
    assert "class='synthetic'" in (out / "report.html").read_text()
    code, stdout, _ = run(capsys, "compare", a.parent / "a", a.parent / "a", *FAST)
    assert code == 1


def test_the_report_is_one_self_contained_page(tmp_path, capsys, isolated_settings):
    a, b, _, _ = _pair(tmp_path)
    out = tmp_path / "out"
    assert run(capsys, "compare", a, b, *FAST, "--out", out)[0] == 0
    page = (out / "report.html").read_text()
    images = re.findall(r"src='data:image/png;base64,([^']+)'", page)
    assert len(images) == 4  # a confusion matrix and a reliability diagram per model
    assert all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    assert "http://" not in page and "https://" not in page
    assert "reliability diagram" in page and page.count("<table") == 2


def _refused(capsys, *folders):
    code, stdout, err = run(capsys, "compare", *folders, *FAST)
    assert code == 1 and stdout == "" and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


def test_runs_on_other_splits_are_refused_by_name(tmp_path, capsys, isolated_settings):
    a, b, rows, folds = _pair(tmp_path)
    splits = json.loads((b / "splits.json").read_text())
    splits["folds"][1]["train"], splits["folds"][1]["val"] = (splits["folds"][1]["val"],
                                                              splits["folds"][1]["train"])
    (b / "splits.json").write_text(json.dumps(splits))
    err = _refused(capsys, a, b)
    assert str(a) in err and str(b) in err and "different splits (fold 1 differs)" in err and "--splits" in err


def test_runs_of_other_scales_are_refused_by_name(tmp_path, capsys, isolated_settings):
    a, _, rows, folds = _pair(tmp_path)
    truth = np.array([r["truth_index"] for r in rows])
    c = write_run(tmp_path / "c", rows, noisy_probabilities(truth, 3, 1.0, 5), model="model_c",
                  codes=("I", "II", "III"), scale="severity3_other", folds=folds)
    err = _refused(capsys, a, c)
    assert f"{a} grades severity3 but {c} grades severity3_other" in err


def test_runs_on_other_samples_are_refused_by_name(tmp_path, capsys, isolated_settings):
    a, b, _, _ = _pair(tmp_path)
    lines = (b / "predictions.csv").read_text().splitlines(keepends=True)
    (b / "predictions.csv").write_text("".join(lines[:-1]))  # one sample fewer
    err = _refused(capsys, a, b)
    assert "tested on different samples (1 only in the first, 0 only in the second" in err
    assert str(a) in err and str(b) in err


def test_runs_that_disagree_on_the_truth_are_refused(tmp_path, capsys, isolated_settings):
    a, b, _, _ = _pair(tmp_path)
    rows = _rows(b)
    rows[0]["truth"], rows[0]["truth_index"] = ("II", "1") if rows[0]["truth"] != "II" else ("I", "0")
    with open(b / "predictions.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    err = _refused(capsys, a, b)
    assert "different true grades" in err and rows[0]["subject"] in err


@pytest.mark.parametrize(("damage", "message"), [
    (lambda rows: rows[0].update(subject="ghost"), "line 2: subject 'ghost' is not a test subject of fold"),
    (lambda rows: rows[1].update(p_I="0.9", p_II="0.9", p_III="0.9"), "line 3: the probabilities do not sum to 1"),
    (lambda rows: rows[2].update(synthetic="maybe"), "line 4: synthetic is 'maybe'"),
    (lambda rows: rows[0].update(fold="x"), "line 2: not a number"),
    (lambda rows: rows[0].update(predicted_index="9"), "line 2: class index outside 0..2"),
])
def test_a_damaged_predictions_file_is_one_line_naming_it(tmp_path, capsys, isolated_settings, damage, message):
    a, b, _, _ = _pair(tmp_path)
    rows = _rows(b)
    damage(rows)
    with open(b / "predictions.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    err = _refused(capsys, a, b)
    assert f"{b / 'predictions.csv'}: {message}" in err


def test_a_run_without_predictions_or_not_a_run_is_one_line(tmp_path, capsys, isolated_settings):
    a, b, _, _ = _pair(tmp_path)
    (b / "predictions.csv").unlink()
    assert "no predictions.csv (out-of-fold predictions)" in _refused(capsys, a, b)
    (tmp_path / "empty").mkdir()
    assert "not a training run folder (no run.json)" in _refused(capsys, a, tmp_path / "empty")
    assert "at least two run folders" in _refused(capsys, a)
    assert "--data only go with --models" in _refused(capsys, a, a.parent / "a", "--data", "x.csv")
    (tmp_path / "file").write_text("mine")
    assert "a file, not a folder" in _refused(capsys, a, tmp_path / "b", "--out", tmp_path / "file")
    assert (tmp_path / "file").read_text() == "mine"


def test_a_multi_seed_run_shows_each_seed_and_their_mean(tmp_path, capsys, isolated_settings):
    a, _, rows, folds = _pair(tmp_path)
    truth = np.array([r["truth_index"] for r in rows])
    multi = tmp_path / "multi"
    for seed in (0, 1, 2):
        write_run(multi / f"seed_{seed}", rows, noisy_probabilities(truth, 3, 1.0, 20 + seed),
                  model="model_m", codes=SEVERITY3, scale="severity3", folds=folds, seed=seed)
    (multi / "seeds.json").write_text(json.dumps({"seeds": [0, 1, 2], "runs": {str(s): f"seed_{s}" for s in (0, 1, 2)}}))
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "compare", a, multi, *FAST, "--out", out, "--json")
    assert code == 0, err
    comparison = json.loads(stdout)
    labels = [r["label"] for r in comparison["rows"]]
    assert labels == ["model_a", "model_m (seed 0)", "model_m (seed 1)", "model_m (seed 2)",
                      "model_m (mean over 3 seeds)"]
    seeds = comparison["rows"][1:4]
    mean = comparison["rows"][4]
    for metric in ("accuracy", "macro_f1", "expected_calibration_error"):
        assert mean["metrics"][metric]["value"] == pytest.approx(
            np.mean([s["metrics"][metric]["value"] for s in seeds]))
    # paired tests between the models' seeds, never between two seeds of one run
    assert [(p["a"], p["b"]) for p in comparison["pairs"]] == [("model_a", f"model_m (seed {s})")
                                                              for s in (0, 1, 2)]
    page = (out / "report.html").read_text()
    assert "mean over 3 seeds" in page and len(re.findall("data:image/png;base64", page)) == 10
    assert any("Mean over seeds" in note for note in comparison["footnotes"])
    (multi / "seed_1" / "predictions.csv").write_text("fold\n")
    assert "seed_1/predictions.csv: missing column(s)" in _refused(capsys, a, multi)
    shutil.rmtree(multi / "seed_2")
    assert "seeds.json: names seed folder(s) seed_2, not in" in _refused(capsys, a, multi)


def test_the_models_form_refuses_what_it_cannot_train_in_one_line(tmp_path, capsys, isolated_settings):
    base = ["--data", tmp_path / "m.csv", "--epochs", "1", "--out", tmp_path / "out"]
    assert "names asymmetry_classifier twice" in _refused(
        capsys, "--models", "asymmetry_classifier,asymmetry_classifier", *base)
    assert "at least two model ids" in _refused(capsys, "--models", "asymmetry_classifier", *base)
    assert "unknown model 'resnet9000'" in _refused(capsys, "--models", "asymmetry_classifier,resnet9000", *base)
    assert "--models needs --data, --epochs and --out" in _refused(capsys, "--models", "a,b", "--epochs", "1")
    a, b, _, _ = _pair(tmp_path)
    assert "give run folders or --models, not both" in _refused(capsys, a, "--models", "a,b", *base)
    assert not (tmp_path / "out").exists()


def test_a_run_with_an_untested_fold_is_refused(tmp_path, capsys, isolated_settings):
    a, b, _, _ = _pair(tmp_path)
    rows = [r for r in _rows(b) if r["fold"] != "2"]
    with open(b / "predictions.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert f"{b / 'predictions.csv'}: fold(s) 2 of 3 have no predictions" in _refused(capsys, a, b)


def test_the_models_form_asks_for_the_scale_when_the_models_differ(tmp_path, capsys, isolated_settings):
    base = ["--data", tmp_path / "m.csv", "--epochs", "1", "--out", tmp_path / "out"]
    err = _refused(capsys, "--models", "asymmetry_classifier,phcnn", *base)
    assert "no first scale in common: choose one with --scale (house_brackmann, severity3, palsy_binary)" in err


def test_two_multi_seed_runs_are_paired_seed_by_seed(tmp_path, capsys, isolated_settings):
    rows = samples(subjects=9, per_subject=2)
    folds = make_folds(sorted({r["subject"] for r in rows}), 3)
    truth = np.array([r["truth_index"] for r in rows])
    for name, skill in (("x", 1.5), ("y", 0.5)):
        for seed in (0, 1):
            write_run(tmp_path / name / f"seed_{seed}", rows, noisy_probabilities(truth, 3, skill, seed),
                      model=f"model_{name}", codes=SEVERITY3, scale="severity3", folds=folds, seed=seed)
        (tmp_path / name / "seeds.json").write_text(json.dumps({"seeds": [0, 1]}))
    code, stdout, err = run(capsys, "compare", tmp_path / "x", tmp_path / "y", *FAST, "--json")
    assert code == 0, err
    assert [(p["a"], p["b"]) for p in json.loads(stdout)["pairs"]] == [
        ("model_x (seed 0)", "model_y (seed 0)"), ("model_x (seed 1)", "model_y (seed 1)")]


def test_models_that_cut_a_file_into_other_samples_are_refused_with_why(tmp_path, capsys, isolated_settings):
    a, b, _, _ = _pair(tmp_path)
    rows = _rows(b)
    rows.append(dict(rows[0]))  # a second sample of the same file (a video's next frame)
    with open(b / "predictions.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    err = _refused(capsys, a, b)
    assert "make a different number of samples of the same files (36 and 37" in err
