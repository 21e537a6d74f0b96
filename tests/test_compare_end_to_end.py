"""Issue 22, "Done when": a third-party plugin, installed for real with pip, is trained beside two
built-in models on one split of a small SYNTHETIC data set (``fpgrade compare --models``), and
the table's figures are recomputed independently from the saved out-of-fold predictions."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score

from fpgrade.cli import main
from tests.conftest import SHARED_FACES

PLUGIN = '''
"""A research group's model: an MLP over the face's landmark shape (a preprocessor of its own)."""

import numpy as np

from fpgrade.hookspecs import hookimpl
from fpgrade.model_api import GradingModel, ModelCard
from fpgrade.preprocess_api import Preprocessor


class LandmarkShape(Preprocessor):
    """The 68 iBUG landmarks centred on their mean, scaled to unit size, flattened."""

    id = "lab_landmark_shape"
    description = "The 68 landmarks, centred and scaled, as a vector of 136."
    requires = ("landmarks",)
    provides = ("landmark_shape",)

    def __call__(self, results):
        points = np.asarray(results["landmarks"].ibug68, dtype=np.float32)
        points = points - points.mean(axis=0)
        return {"landmark_shape": (points / (np.abs(points).max() + 1e-6)).ravel()}


class ShapeMlp(GradingModel):
    card = ModelCard(
        id="lab_shape_mlp", name="Landmark-shape MLP (a lab's model)", paper="none: a test plugin",
        scales=("severity3", "house_brackmann"),
        preprocessors=("image_loader", "face_landmarks", "lab_landmark_shape"),
        input_shape=(136,), mean=(), std=(),
        recipe={"optimizer": "adam", "lr": 3e-3, "epochs": 10, "batch_size": 8, "protocol": "kfold:3"},
    )
    input_keys = ("landmark_shape",)
    input_layouts = {"landmark_shape": "vector"}

    @classmethod
    def build(cls, scale=None, *, num_classes=None, backbone_weights=None, **options):
        from torch import nn

        class Mlp(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.Linear(136, 32), nn.ReLU(), nn.Linear(32, num_classes or 3))

            def forward(self, landmark_shape):
                return {"logits": self.body(landmark_shape)}

        return Mlp()


@hookimpl
def register_preprocessors(register):
    register(LandmarkShape)


@hookimpl
def register_models(register):
    register(ShapeMlp)
'''

PYPROJECT = '''
[build-system]
requires = ["setuptools>=70.1"]
build-backend = "setuptools.build_meta"

[project]
name = "fpgrade-lab-shape"
version = "0.3.0"
requires-python = ">=3.11"
dependencies = ["fpgrade"]

[project.entry-points.fpgrade]
lab_shape = "fpgrade_lab_shape"

[tool.setuptools]
py-modules = ["fpgrade_lab_shape"]
'''


@pytest.fixture(scope="module")
def lab_site(tmp_path_factory):
    """The lab's plugin written as a package and pip-installed into its own folder (the
    project's venv stays untouched)."""
    source = tmp_path_factory.mktemp("lab-plugin")
    (source / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    (source / "fpgrade_lab_shape.py").write_text(textwrap.dedent(PLUGIN))
    site = tmp_path_factory.mktemp("lab-site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "--no-deps", "--no-build-isolation", "--target", str(site), str(source)], check=True)
    return site


@pytest.fixture
def lab_plugin(lab_site, monkeypatch):
    """The installed plugin on the path, found through its entry point like any distribution."""
    from tests.conftest import _clear_caches

    site = lab_site
    monkeypatch.syspath_prepend(str(site))
    _clear_caches()
    yield site
    sys.modules.pop("fpgrade_lab_shape", None)
    _clear_caches()


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """10 synthetic subjects (distinct real people), 2 visits each with its own severity3 grade,
    photos only (every model then tests the same samples)."""
    from fpgrade.registry import load_registry
    from fpgrade.synth import identities_in_photo, make_synthetic, source_identities
    from tests.media_factory import astronaut

    if not SHARED_FACES.is_dir():
        pytest.skip(f"a synthetic data set of several people needs the real faces of {SHARED_FACES}")
    identities = identities_in_photo("astronaut", astronaut())
    identities += source_identities(SHARED_FACES / name for name in (
        "single_face.jpg", "0-f1-su-ph.jpg", "Image_with_alpha.png", "multi_face.jpg",
        "WolfgangLanger_Pexels.mp4"))
    return make_synthetic(tmp_path_factory.mktemp("photos"), load_registry(disabled=()).scale("severity3"),
                          10, identities, images_per_subject=1, seed=2, visits=2)


def _vote(p: np.ndarray) -> int:
    """A visit's prediction: most common predicted grade; a tie to the higher summed
    probability, then to the first grade (metrics.TIE_RULE)."""
    counts = np.bincount(p.argmax(axis=1), minlength=p.shape[1])
    tied = [g for g in range(p.shape[1]) if counts[g] == counts.max()]
    return min(tied, key=lambda g: (-p[:, g].sum(), g))


def _recompute(folder):
    """Accuracy, macro F1, QWK and subject-visit accuracy from predictions.csv alone."""
    with open(folder / "predictions.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    truth = np.array([int(r["truth_index"]) for r in rows])
    predicted = np.array([int(r["predicted_index"]) for r in rows])
    p_columns = [c for c in rows[0] if c.startswith("p_")]
    cases: dict = {}
    for row, t in zip(rows, truth):
        case = cases.setdefault((row["subject"], row["visit"]), {"truth": [], "p": []})
        case["truth"].append(t)
        case["p"].append([float(row[c]) for c in p_columns])
    visit_right = [np.bincount(c["truth"], minlength=3).argmax() == _vote(np.array(c["p"]))
                   for c in cases.values()]
    return {"accuracy": accuracy_score(truth, predicted),
            "macro_f1": f1_score(truth, predicted, labels=sorted(set(truth)), average="macro", zero_division=0),
            "quadratic_weighted_kappa": cohen_kappa_score(truth, predicted, labels=[0, 1, 2], weights="quadratic"),
            "subject_accuracy": float(np.mean(visit_right)),
            "correct": predicted == truth, "rows": rows}


def test_a_third_party_plugin_and_two_built_ins_compared_on_one_split(lab_plugin, photos, tmp_path, capsys,
                                                                      isolated_settings):
    out = tmp_path / "comparison"
    models = ["lab_shape_mlp", "asymmetry_classifier", "phcnn"]
    code = main(["compare", "--models", ",".join(models), "--data", str(photos), "--protocol", "kfold:2",
                 "--scale", "severity3", "--epochs", "1", "--batch-size", "8", "--out", str(out),
                 "--bootstrap", "300", "--permutations", "300", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    comparison = json.loads(captured.out)
    runs = [out / "runs" / m for m in models]
    splits = [json.loads((r / "splits.json").read_text())["folds"] for r in runs]
    assert splits[0] == splits[1] == splits[2]  # one split for all
    assert comparison["synthetic"] and "SYNTHETIC" in comparison["title"]
    assert [r["model"] for r in comparison["rows"]] == models
    assert comparison["subjects"] == 10 and comparison["samples"] == 20 and comparison["cases"] == 20

    recomputed = {m: _recompute(r) for m, r in zip(models, runs)}
    for row in comparison["rows"]:
        mine = recomputed[row["model"]]
        assert row["synthetic"] and row["samples"] == len(mine["rows"])
        for metric in ("accuracy", "macro_f1", "quadratic_weighted_kappa", "subject_accuracy"):
            figure = row["metrics"][metric]
            assert figure["value"] == pytest.approx(mine[metric], abs=1e-9), (row["model"], metric)
            assert figure["low"] <= figure["value"] <= figure["high"]
    assert len(comparison["pairs"]) == 3
    for pair in comparison["pairs"]:
        a, b = recomputed[pair["a"]], recomputed[pair["b"]]
        order_a = sorted(range(20), key=lambda i: (a["rows"][i]["subject"], a["rows"][i]["sha256"]))
        order_b = sorted(range(20), key=lambda i: (b["rows"][i]["subject"], b["rows"][i]["sha256"]))
        right_a, right_b = a["correct"][order_a], b["correct"][order_b]
        assert pair["mcnemar"]["b"] == int((right_a & ~right_b).sum())
        assert pair["mcnemar"]["c"] == int((~right_a & right_b).sum())
        assert pair["accuracy"]["value"] == pytest.approx(a["accuracy"] - b["accuracy"])
        assert 0 < pair["accuracy"]["p_permutation"] <= 1 and 0 < pair["mcnemar"]["p"] <= 1
    for name in ("table.md", "table.csv", "pairs.csv", "table.tex", "comparison.json", "report.html"):
        assert (out / name).is_file(), name
    markdown = (out / "table.md").read_text()
    assert "lab_shape_mlp" in markdown and markdown.count("SYNTHETIC data: not a clinical result") == 2
    # the same runs compared again from their folders give the same table
    code = main(["compare", *map(str, runs), "--bootstrap", "300", "--permutations", "300", "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out) == comparison


def test_models_over_seeds_compare_every_seed_and_their_mean(lab_plugin, photos, tmp_path, capsys,
                                                            isolated_settings):
    out = tmp_path / "comparison"
    code = main(["compare", "--models", "lab_shape_mlp,asymmetry_classifier", "--seeds", "0,1",
                 "--data", str(photos), "--protocol", "kfold:2", "--scale", "severity3", "--epochs", "1",
                 "--select-metric", "qwk", "--out", str(out), "--bootstrap", "200", "--permutations", "200",
                 "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    comparison = json.loads(captured.out)
    assert [r["label"] for r in comparison["rows"]] == [
        "lab_shape_mlp (seed 0)", "lab_shape_mlp (seed 1)", "lab_shape_mlp (mean over 2 seeds)",
        "asymmetry_classifier (seed 0)", "asymmetry_classifier (seed 1)", "asymmetry_classifier (mean over 2 seeds)"]
    assert [(p["a"], p["b"]) for p in comparison["pairs"]] == [
        ("lab_shape_mlp (seed 0)", "asymmetry_classifier (seed 0)"),
        ("lab_shape_mlp (seed 1)", "asymmetry_classifier (seed 1)")]
    folds = {(out / "runs" / m / f"seed_{s}" / "splits.json").read_text()
             for m in ("lab_shape_mlp", "asymmetry_classifier") for s in (0, 1)}
    assert len({json.dumps(json.loads(f)["folds"]) for f in folds}) == 1  # one split for all
    for model in ("lab_shape_mlp", "asymmetry_classifier"):
        seed_rows = [r for r in comparison["rows"] if r["model"] == model]
        for s, row in zip((0, 1), seed_rows):
            assert row["metrics"]["accuracy"]["value"] == pytest.approx(
                _recompute(out / "runs" / model / f"seed_{s}")["accuracy"])
        assert seed_rows[2]["metrics"]["accuracy"]["value"] == pytest.approx(
            np.mean([r["metrics"]["accuracy"]["value"] for r in seed_rows[:2]]))
        assert json.loads((out / "runs" / model / "seed_0" / "run.json").read_text())["select_metric"] == "quadratic_weighted_kappa"
