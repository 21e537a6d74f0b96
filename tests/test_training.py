"""Training: the engine (loss goes down, checkpoints, resume), the CLI end to end on SYNTHETIC
data, reloaded weights predicting the same probabilities, and every bad input."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from fpgrade.cli import main
from fpgrade.errors import TrainingError
from fpgrade.model_api import GradingModel, ModelCard
from fpgrade.training.data import Item
from fpgrade.training.engine import TrainConfig, Trainer


def brightness_items(n=16, seed=0):
    """Frames whose class is their brightness: learnable in a few steps."""
    rng = np.random.default_rng(seed)
    items = []
    for i in range(n):
        label = ("normal", "palsy")[i % 2]
        level = 60 if label == "normal" else 190
        face = np.clip(rng.normal(level, 25, (1, 128, 128, 3)), 0, 255).astype(np.uint8)
        region = np.clip(rng.normal(level, 25, (1, 40, 120, 3)), 0, 255).astype(np.uint8)
        items.append(Item({"sequence_face": face, "sequence_eyebrow": region, "sequence_mouth": region},
                          label, f"S{i}", i))
    return items


def trainer(registry, tmp_path, epochs, resume=False, model="phcnn"):
    config = TrainConfig(epochs=epochs, batch_size=4, seed=0, resume=resume, lr=0.01, show_progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Trainer(registry.model(model), registry.scale("palsy_binary"), tmp_path / "fold", config)


class LinearProbe(GradingModel):
    """A linear classifier over a 2-d vector: the engine's smallest honest learner."""

    card = ModelCard(id="test_linear_probe", name="Linear probe", paper="test",
                     scales=("palsy_binary",), input_shape=(2,), mean=(), std=(),
                     recipe={"optimizer": "adam", "lr": 0.1, "schedule": "constant",
                             "batch_size": 8})
    input_keys = ("x",)
    input_layouts = {"x": "vector"}

    @classmethod
    def build(cls, scale=None, *, num_classes=None, backbone_weights=None, **options):
        import torch
        from torch import nn

        class Probe(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(2, num_classes or 2)

            def forward(self, x):
                return {"logits": self.fc(x)}

        torch.manual_seed(0)
        return Probe()


def separable_items(n, seed):
    """Two classes 12 standard deviations apart along the first axis: any working engine
    separates them perfectly within a few epochs, on any machine."""
    rng = np.random.default_rng(seed)
    items = []
    for i in range(n):
        label = ("normal", "palsy")[i % 2]
        centre = (-3.0, 0.0) if label == "normal" else (3.0, 0.0)
        x = (np.array(centre) + rng.normal(0, 0.25, 2)).astype(np.float32)
        items.append(Item({"x": x}, label, f"S{i}", i))
    return items


def test_a_short_training_run_lowers_the_loss_and_keeps_the_best(registry, tmp_path):
    config = TrainConfig(epochs=15, seed=0, show_progress=False)
    fold = Trainer(LinearProbe, registry.scale("palsy_binary"), tmp_path / "fold", config)
    result = fold.fit(separable_items(32, seed=0), separable_items(16, seed=1))
    losses = [h["train_loss"] for h in result.history]
    assert losses[-1] < 0.5 * losses[0]
    assert result.history[result.best_epoch]["val_accuracy"] == 1.0
    scores = [h["val_macro_f1"] + 1e-3 * h["val_accuracy"] for h in result.history]
    assert result.best_epoch == int(np.argmax(scores))  # the first epoch with the best score
    folder = tmp_path / "fold"
    for name in ("best.safetensors", "best.json", "last.safetensors", "state.pt", "history.json"):
        assert (folder / name).is_file(), name
    card = json.loads((folder / "best.json").read_text())
    assert card["id"] == "test_linear_probe" and card["scale"] == "palsy_binary"
    assert card["epoch"] == result.best_epoch
    assert len(card["weights_sha256"]) == 64


def test_resume_continues_from_the_last_epoch(registry, tmp_path):
    trainer(registry, tmp_path, epochs=2).fit(brightness_items(8), brightness_items(4, seed=1))
    resumed = trainer(registry, tmp_path, epochs=4, resume=True).fit(brightness_items(8), brightness_items(4, seed=1))
    assert [h["epoch"] for h in resumed.history] == [0, 1, 2, 3]


def test_resume_without_a_checkpoint_is_an_error(registry, tmp_path):
    with pytest.raises(TrainingError, match="nothing to resume"):
        trainer(registry, tmp_path, epochs=2, resume=True).fit(brightness_items(4), brightness_items(4))


def test_an_unavailable_device_is_refused(registry, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(TrainingError, match="CUDA is not available"):
        Trainer(registry.model("phcnn"), registry.scale("palsy_binary"), tmp_path,
                TrainConfig(epochs=1, device="cuda"))


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def trained_run(synthetic_sided7, tmp_path_factory):
    """phcnn trained for 2 epochs on the synthetic set through the CLI (module-wide), with its
    own data folder (database, cache)."""
    from tests.conftest import _clear_caches

    out = tmp_path_factory.mktemp("run")
    data_dir = tmp_path_factory.mktemp("run-data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FPGRADE_DATA_DIR", str(data_dir))
        _clear_caches()
        code = main(["train", "--model", "phcnn", "--scale", "sided7", "--data", str(synthetic_sided7),
                     "--protocol", "split:8:3:3", "--epochs", "2", "--batch-size", "8", "--lr", "0.003",
                     "--out", str(out), "--json"])
    _clear_caches()
    assert code == 0
    return out, data_dir


@pytest.fixture
def trained(trained_run):
    return trained_run[0]


def test_train_writes_a_complete_run(trained):
    for name in ("run.json", "splits.json", "summary.json", "fold_0/best.safetensors",
                 "fold_0/test.json", "fold_0/test_confusion.png", "fold_0/history.json"):
        assert (trained / name).is_file(), name
    run_info = json.loads((trained / "run.json").read_text())
    assert run_info["model"] == "phcnn" and run_info["scale"] == "sided7"
    splits = json.loads((trained / "splits.json").read_text())["folds"][0]
    assert not set(splits["train"]) & set(splits["test"])
    test = json.loads((trained / "fold_0/test.json").read_text())
    assert set(test["test_subjects"]) == set(splits["test"])
    assert {"accuracy", "macro", "per_class", "confusion_matrix", "expected_calibration_error",
            "per_subject"} <= set(test)


def test_the_training_run_is_recorded_in_the_database(trained_run, monkeypatch):
    from sqlmodel import select

    from fpgrade.settings import get_settings
    from fpgrade.storage import database
    from fpgrade.storage.tables import ModelVersion, TrainingRun

    trained, data_dir = trained_run
    monkeypatch.setenv("FPGRADE_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    database.get_engine.cache_clear()
    with database.session() as session:
        runs = session.exec(select(TrainingRun).where(TrainingRun.out_dir == str(trained))).all()
        assert runs and runs[0].status == "finished" and runs[0].metrics["accuracy"]["mean"] >= 0
        versions = session.exec(select(ModelVersion).where(ModelVersion.model_id == "phcnn")).all()
        assert any(v.weights_path.startswith(str(trained)) for v in versions)


def test_evaluate_reproduces_the_test_metrics(trained, capsys):
    code, out, _ = run(capsys, "evaluate", str(trained), "--json")
    assert code == 0
    again = json.loads(out)
    first = json.loads((trained / "summary.json").read_text())
    assert again["accuracy"]["mean"] == pytest.approx(first["accuracy"]["mean"])
    assert (trained / "fold_0" / "evaluation_confusion.png").is_file()


def test_reloaded_weights_predict_the_same_probabilities(trained, synthetic_sided7, registry, capsys):
    from fpgrade.training.predict import Predictor

    rows = list(csv.DictReader(open(synthetic_sided7)))
    photo = synthetic_sided7.parent / rows[0]["path"]
    weights = trained / "fold_0" / "best.safetensors"
    first = Predictor(registry, "phcnn", weights).predict(photo)
    code, out, _ = run(capsys, "predict", str(photo), "--model", "phcnn", "--weights", str(weights), "--json")
    (second,) = json.loads(out)
    assert code == 0
    assert second["probabilities"] == pytest.approx(first["probabilities"], abs=1e-6)
    assert set(second) >= {"model", "model_version", "scale", "label", "probabilities", "side"}
    assert second["scale"] == "sided7" and sum(second["probabilities"].values()) == pytest.approx(1)
    assert second["side"] == {"N": "none"}.get(second["label"], "left" if second["label"][0] == "L" else "right")


def test_predict_grades_videos_and_reports_bad_files(trained, synthetic_sided7, tmp_path, capsys):
    video = next(synthetic_sided7.parent.glob("*/synthetic_clip.mp4"))
    bad = tmp_path / "letter.jpg"
    bad.write_text("not a photo")
    weights = trained / "fold_0" / "best.safetensors"
    code, out, err = run(capsys, "predict", str(video), str(bad), "--model", "phcnn",
                         "--weights", str(weights), "--json")
    results = json.loads(out)
    assert code == 1
    assert results[0]["label"] in ("N", "L1", "L2", "L3", "R1", "R2", "R3")
    assert results[1]["error"].endswith("letter.jpg: not an image or a video that can be read")
    assert "letter.jpg" in err


def test_weights_for_another_model_are_refused(trained, synthetic_sided7, capsys):
    photo = next(synthetic_sided7.parent.glob("*/synthetic_0.png"))
    code, _, err = run(capsys, "predict", str(photo), "--model", "face_n1_lstm",
                       "--weights", str(trained / "fold_0" / "best.safetensors"))
    assert code == 1 and "weights for model 'phcnn', not 'face_n1_lstm'" in err


def test_a_retrain_reuses_the_saved_splits(trained, synthetic_sided7, tmp_path, capsys):
    code, _, _ = run(capsys, "train", "--model", "face_n1_lstm", "--scale", "sided7",
                     "--data", str(synthetic_sided7), "--splits", str(trained / "splits.json"),
                     "--epochs", "1", "--batch-size", "8", "--out", str(tmp_path / "again"))
    assert code == 0
    first = json.loads((trained / "splits.json").read_text())["folds"]
    second = json.loads((tmp_path / "again" / "splits.json").read_text())["folds"]
    assert first == second


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "/nonexistent/manifest.csv"], "no such manifest"),
        (["--protocol", "holdout"], "unknown protocol 'holdout'"),
        (["--model", "resnet9000"], "unknown model 'resnet9000'"),
        (["--scale", "nope"], "unknown scale 'nope'"),
    ],
)
def test_bad_training_requests_are_one_line_errors(synthetic_sided7, tmp_path, capsys, args, message):
    base = {"--model": "phcnn", "--data": str(synthetic_sided7), "--protocol": "split:8:3:3",
            "--scale": "sided7"}
    base.update(dict(zip(args[::2], args[1::2])))
    argv = ["train", "--epochs", "1", "--out", str(tmp_path / "r")]
    for key, value in base.items():
        argv += [key, value]
    code, _, err = run(capsys, *argv)
    assert code == 1 and message in err and "Traceback" not in err


def test_a_model_for_videos_refuses_photos(synthetic_sided7, tmp_path, capsys):
    photos_only = tmp_path / "photos.csv"
    rows = [r for r in csv.DictReader(open(synthetic_sided7)) if r["path"].endswith(".png")]
    with open(photos_only, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**r, "path": str(synthetic_sided7.parent / r["path"])} for r in rows)
    code, _, err = run(capsys, "train", "--model", "palsynet3d", "--scale", "sided7", "--data",
                       str(photos_only), "--protocol", "split:8:3:3", "--epochs", "1",
                       "--out", str(tmp_path / "r"))
    assert code == 1 and "palsynet3d grades videos, not images" in err


def test_synth_writes_labelled_synthetic_data(tmp_path, capsys):
    code, out, _ = run(capsys, "synth", str(tmp_path / "s"), "--subjects", "1", "--scale", "house_brackmann")
    assert code == 0 and "SYNTHETIC" in out
    rows = list(csv.DictReader(open(tmp_path / "s" / "manifest.csv")))
    assert len(rows) == 2 and {r["synthetic"] for r in rows} == {"1"}
    assert all(r["annotator"] == "synthetic" and "synthetic" in r["path"] for r in rows)
    assert "NOT CLINICAL" in (tmp_path / "s" / "SYNTHETIC_DATA.txt").read_text()


def test_synthetic_palsy_moves_the_chosen_side(astronaut_landmarks):
    from fpgrade.face.measure import measure
    from fpgrade.scales import Side
    from fpgrade.synth import Palsy, displaced_points

    lm = astronaut_landmarks
    before = measure(lm.ibug68, lm.iris_right, lm.iris_left)
    after = measure(displaced_points(lm, Palsy(Side.LEFT, 1.0)), lm.iris_right, lm.iris_left)
    assert after.sides["brow_height"].left < before.sides["brow_height"].left
    assert after.sides["brow_height"].right == pytest.approx(before.sides["brow_height"].right)
    assert after.sides["smile_angle"].left < before.sides["smile_angle"].left
    assert after.asymmetry["RgAs"] > before.asymmetry["RgAs"]


@pytest.mark.slow
def test_distributed_training_with_torchrun(synthetic_sided7, tmp_path, isolated_settings):
    """Two CPU processes (gloo) under torchrun: DistributedDataParallel, rank 0 writes."""
    torchrun = os.path.join(os.path.dirname(sys.executable), "torchrun")
    env = {**os.environ, "FPGRADE_DATA_DIR": str(isolated_settings), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [torchrun, "--standalone", "--nproc_per_node", "2", "-m", "fpgrade", "train",
         "--model", "phcnn", "--scale", "sided7", "--data", str(synthetic_sided7),
         "--protocol", "split:8:3:3", "--epochs", "1", "--batch-size", "4",
         "--out", str(tmp_path / "ddp")],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "ddp" / "fold_0" / "best.safetensors").is_file()
    assert json.loads((tmp_path / "ddp" / "summary.json").read_text())["folds"]


@pytest.mark.slow
def test_the_asymmetry_classifier_beats_chance_on_held_out_synthetic_subjects(tmp_path_factory, capsys):
    """9 SYNTHETIC subjects, each a different person (synth refuses more subjects than the sources
    hold people; single_face.mp4 is left out, it shows the man of single_face.jpg), each followed
    over 7 visits that go through the 7 side-aware classes (chance 1/7 = 14 %), 3-fold
    cross-validation grouped by subject: the fast model must learn the side and severity of the
    warp on people it has never seen, not the people.

    Measured here over seeds 0-3: mean accuracy 0.41-0.47 (single folds 0.20-0.60, the folds hold
    3 people each). The bound, 0.25, sits well below that and well above chance."""
    from tests.conftest import SHARED_FACES

    if not SHARED_FACES.is_dir():
        pytest.skip("needs the real faces of tests/media/faces")
    data = tmp_path_factory.mktemp("learnable")
    faces = [SHARED_FACES / n for n in ("single_face.jpg", "0-f1-su-ph.jpg", "WolfgangLanger_Pexels.mp4",
                                        "Image_with_alpha.png", "multi_face.jpg")]
    argv = ["synth", str(data / "s"), "--subjects", "9", "--scale", "sided7", "--visits", "7",
            "--images-per-subject", "4"]
    for face in faces:
        argv += ["--faces", str(face)]
    assert main(argv) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "train", "--model", "asymmetry_classifier", "--scale", "sided7",
                       "--data", str(data / "s" / "manifest.csv"), "--protocol", "kfold:3",
                       "--epochs", "60", "--out", str(data / "run"), "--json")
    summary = json.loads(out)
    assert code == 0 and len(summary["folds"]) == 3
    assert summary["accuracy"]["mean"] > 0.25, summary["folds"]
    assert max(f["accuracy"] for f in summary["folds"]) > 2.5 / 7, summary["folds"]


def test_evaluate_a_folder_that_is_not_a_run(tmp_path, capsys):
    code, out, err = run(capsys, "evaluate", str(tmp_path))
    assert code == 1 and out == ""
    assert "not a training run folder" in err and "Traceback" not in err


def test_synth_without_any_face(shared_faces, tmp_path, capsys):
    code, _, err = run(capsys, "synth", str(tmp_path / "s"), "--subjects", "2",
                       "--faces", str(shared_faces / "free-mountain-vector-01.jpg"))
    assert code == 1 and "no face found in any source image" in err
