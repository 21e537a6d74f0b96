"""A training run never loses or garbles work: resume finishes every fold, an existing run is not
overwritten silently, paths survive a change of folder, changed files and reused splits are
checked, SYNTHETIC weights say so, and bad options are one line (issue 8)."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest

from fpgrade.cli import main
from fpgrade.media import sha256_file
from tests.interrupt import kill_once_checkpointed

FAST = ["--model", "asymmetry_classifier", "--scale", "sided7", "--batch-size", "8"]


def run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def data(sided7_in_module_data):
    return sided7_in_module_data


def test_resume_finishes_every_fold_of_a_run_killed_in_fold_0(data, module_data_dir, tmp_path, capsys):
    """A real kill (SIGKILL) as soon as fold 0 has checkpointed; --resume then finishes fold 0
    from its checkpoint and trains the folds never started."""
    out = tmp_path / "run"
    args = ["train", *FAST, "--data", str(data), "--protocol", "kfold:3", "--epochs", "40",
            "--out", str(out)]
    env = {**os.environ, "FPGRADE_DATA_DIR": str(module_data_dir)}
    kill_once_checkpointed(args, out / "fold_0" / "state.pt", "fold 0", env)
    assert not (out / "summary.json").is_file()
    code, stdout, err = run(capsys, *args, "--resume", "--json")
    assert code == 0, err
    summary = json.loads(stdout)
    assert [f["fold"] for f in summary["folds"]] == [0, 1, 2]
    assert summary["folds_tested"] == summary["folds_total"] == 3
    history = json.loads((out / "fold_0" / "history.json").read_text())
    assert [h["epoch"] for h in history] == list(range(40))  # each epoch once: continued, not restarted
    assert json.loads((out / "summary.json").read_text())["folds"] == summary["folds"]


def test_resume_refuses_other_training_options(data, tmp_path, capsys):
    out = tmp_path / "run"
    assert run(capsys, "train", *FAST, "--data", data, "--protocol", "kfold:3", "--epochs", "1",
               "--fold", "0", "--out", out)[0] == 0
    code, _, err = run(capsys, "train", *FAST, "--data", data, "--epochs", "5", "--lr", "0.1",
                       "--resume", "--out", out)
    assert code == 1 and "epochs 1 (asked: 5)" in err and "lr None (asked: 0.1)" in err


def test_resume_keeps_folds_that_were_already_tested(data, tmp_path, capsys):
    out = tmp_path / "run"
    assert run(capsys, "train", *FAST, "--data", data, "--protocol", "kfold:3", "--epochs", "1",
               "--fold", "0", "--out", out)[0] == 0
    tested = (out / "fold_0" / "best.safetensors").read_bytes()
    code, _, err = run(capsys, "train", *FAST, "--data", data, "--protocol", "kfold:3",
                       "--epochs", "1", "--resume", "--out", out)
    assert code == 0, err
    assert (out / "fold_0" / "best.safetensors").read_bytes() == tested
    assert (out / "fold_2" / "test.json").is_file()


def test_resume_refuses_another_model_or_an_empty_folder(data, tmp_path, capsys):
    code, _, err = run(capsys, "train", *FAST, "--data", data, "--epochs", "1", "--resume",
                       "--out", tmp_path / "nothing")
    assert code == 1 and "no run to resume here" in err
    out = tmp_path / "run"
    assert run(capsys, "train", *FAST, "--data", data, "--protocol", "kfold:3", "--epochs", "1",
               "--fold", "0", "--out", out)[0] == 0
    code, _, err = run(capsys, "train", "--model", "asymmetry_classifier", "--scale", "palsy_binary",
                       "--data", data, "--epochs", "1", "--resume", "--out", out)
    assert code == 1 and "started with another scale 'sided7'" in err


def test_an_existing_run_is_not_overwritten_without_overwrite(data, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", *FAST, "--data", data, "--protocol", "split:8:3:3", "--epochs", "1", "--out", out]
    assert run(capsys, *args)[0] == 0
    before = sha256_file(out / "fold_0" / "best.safetensors")
    code, _, err = run(capsys, *args, "--seed", "7")
    assert code == 1 and "already holds a training run" in err and "--overwrite" in err
    assert "Traceback" not in err
    assert sha256_file(out / "fold_0" / "best.safetensors") == before
    code, _, err = run(capsys, *args, "--seed", "7", "--overwrite")
    assert code == 0, err
    assert json.loads((out / "run.json").read_text())["seed"] == 7


def test_a_run_is_evaluated_from_any_folder_and_with_other_data(data, tmp_path, capsys, monkeypatch):
    work = tmp_path / "work"
    shutil.copytree(data.parent, work / "synthetic")
    monkeypatch.chdir(work)
    assert run(capsys, "train", *FAST, "--data", "synthetic/manifest.csv", "--protocol", "split:8:3:3",
               "--epochs", "1", "--out", "run")[0] == 0
    info = json.loads((work / "run" / "run.json").read_text())
    assert Path(info["data"]).is_absolute()
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "evaluate", work / "run", "--json")
    assert code == 0, err
    first = json.loads(out)["accuracy"]["mean"]

    shutil.move(work / "synthetic", tmp_path / "moved")
    code, _, err = run(capsys, "evaluate", work / "run")
    assert code == 1 and "is gone; give it with --data" in err
    code, out, err = run(capsys, "evaluate", work / "run", "--data", tmp_path / "moved" / "manifest.csv",
                         "--json")
    assert code == 0, err
    assert json.loads(out)["accuracy"]["mean"] == pytest.approx(first)

    test_subjects = set(json.loads((work / "run" / "splits.json").read_text())["folds"][0]["test"])
    manifest = tmp_path / "moved" / "manifest.csv"
    rows = list(csv.DictReader(open(manifest)))
    with open(manifest, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(r for r in rows if r["subject"] not in test_subjects)
    code, _, err = run(capsys, "evaluate", work / "run", "--data", manifest)
    assert code == 1 and "none of fold 0's test subjects" in err and "Traceback" not in err


def test_reused_splits_refuse_subjects_they_do_not_know(data, tmp_path, capsys):
    old = tmp_path / "old"
    assert run(capsys, "train", *FAST, "--data", data, "--protocol", "split:8:3:3", "--epochs", "1",
               "--out", old)[0] == 0
    splits = json.loads((old / "splits.json").read_text())
    dropped = splits["folds"][0]["train"].pop()
    (tmp_path / "splits.json").write_text(json.dumps(splits))
    code, _, err = run(capsys, "train", *FAST, "--data", data, "--epochs", "1",
                       "--splits", tmp_path / "splits.json", "--out", tmp_path / "new")
    assert code == 1 and "are in none of its folds" in err and dropped in err


def test_a_stored_file_changed_since_import_is_refused_by_name(data, tmp_path, capsys):
    copy = tmp_path / "synthetic"
    shutil.copytree(data.parent, copy)
    assert run(capsys, "import", copy / "manifest.csv")[0] == 0
    victim = next(copy.glob("*/synthetic_0.png"))
    victim.write_bytes(next(copy.glob("*/synthetic_0.png")).read_bytes() + b"\0")
    code, _, err = run(capsys, "train", *FAST, "--data", "db", "--epochs", "1", "--out", tmp_path / "run")
    assert code == 1 and "changed since they were imported" in err and victim.name in err


def test_synthetic_weights_say_so_in_the_card_and_in_predictions(data, tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, err = run(capsys, "train", *FAST, "--data", data, "--protocol", "split:8:3:3",
                            "--epochs", "1", "--out", out)
    assert code == 0 and "SYNTHETIC data" in stdout
    assert json.loads((out / "fold_0" / "best.json").read_text())["synthetic"] is True
    assert json.loads((out / "summary.json").read_text())["synthetic"] is True
    photo = next(data.parent.glob("*/synthetic_0.png"))
    weights = out / "fold_0" / "best.safetensors"
    code, stdout, _ = run(capsys, "predict", photo, "--model", "asymmetry_classifier",
                          "--weights", weights, "--json")
    (result,) = json.loads(stdout)
    assert code == 0 and result["synthetic"] is True and isinstance(result["unsure"], bool)
    assert result["model_version"] == f"asymmetry_classifier-{sha256_file(weights)[:12]}"
    code, stdout, _ = run(capsys, "predict", photo, "--model", "asymmetry_classifier", "--weights", weights)
    assert "trained on SYNTHETIC data" in stdout


def test_piped_training_prints_one_plain_line_per_epoch(data, tmp_path, capsys):
    code, _, err = run(capsys, "train", *FAST, "--data", data, "--protocol", "kfold:3",
                       "--epochs", "2", "--out", tmp_path / "run")
    assert code == 0
    lines = [line for line in err.splitlines() if " epoch " in line]
    assert len(lines) == 3 * 2
    assert lines[0].startswith("fold 1/3 asymmetry_classifier grade epoch 1/2: loss ")
    assert "\x1b[" not in err  # no terminal codes in a log


@pytest.mark.parametrize(("protocol", "message"), [("kfold:1", "needs K >= 2 folds"),
                                                   ("kfold:two", "a whole number K >= 2")])
def test_impossible_protocols_are_one_line(data, tmp_path, capsys, protocol, message):
    code, _, err = run(capsys, "train", *FAST, "--data", data, "--protocol", protocol, "--epochs", "1",
                       "--out", tmp_path / "run")
    assert code == 1 and message in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_a_pickle_as_checkpoint_is_refused_in_one_line(data, tmp_path, capsys):
    import pickle

    out = tmp_path / "run"
    assert run(capsys, "train", *FAST, "--data", data, "--protocol", "split:8:3:3", "--epochs", "1",
               "--out", out)[0] == 0
    (out / "fold_0" / "test.json").unlink()

    class Payload:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    (out / "fold_0" / "state.pt").write_bytes(pickle.dumps(Payload()))
    code, _, err = run(capsys, "train", *FAST, "--data", data, "--epochs", "1", "--resume", "--out", out)
    assert code == 1 and "not a checkpoint fpgrade can resume from" in err
    assert not (tmp_path / "pwned").exists() and "Traceback" not in err


def test_a_failed_overwrite_leaves_the_old_run_and_its_records(data, tmp_path, capsys):
    from sqlmodel import select

    from fpgrade.storage import database
    from fpgrade.storage.tables import ModelVersion, TrainingRun

    out = tmp_path / "run"
    # training is deterministic: a seed of its own, so that no other test made the same weights
    args = ["train", *FAST, "--data", data, "--protocol", "split:8:3:3", "--epochs", "1", "--out", out,
            "--seed", "11"]
    assert run(capsys, *args)[0] == 0
    before = sha256_file(out / "fold_0" / "best.safetensors")
    code, _, err = run(capsys, "train", *FAST, "--data", tmp_path / "typo.csv", "--epochs", "1",
                       "--out", out, "--overwrite")
    assert code == 1 and "no such manifest" in err
    code, _, err = run(capsys, *args, "--fold", "7", "--overwrite")
    assert code == 1 and "has folds 0 to 0" in err
    assert sha256_file(out / "fold_0" / "best.safetensors") == before
    assert (out / "summary.json").is_file()
    with database.read_session() as session:
        assert len(session.exec(select(TrainingRun).where(TrainingRun.out_dir == str(out))).all()) == 1
    assert run(capsys, *args, "--seed", "3", "--overwrite")[0] == 0  # a real overwrite: records replaced
    with database.read_session() as session:
        runs = session.exec(select(TrainingRun).where(TrainingRun.out_dir == str(out))).all()
        assert len(runs) == 1 and runs[0].params["seed"] == 3
        versions = [v for v in session.exec(select(ModelVersion)).all()
                    if v.weights_path.startswith(str(out))]
        # the replaced run's version stays in the registry, withdrawn (ids are never reused)
        assert sorted(v.status for v in versions) == ["candidate", "rejected"]
        assert runs[0].model_version_id == next(v.id for v in versions if v.status == "candidate")


def _version_of(out):
    from sqlmodel import select

    from fpgrade.storage import database
    from fpgrade.storage.tables import ModelVersion

    with database.read_session() as session:
        return session.exec(select(ModelVersion).where(
            ModelVersion.weights_path == str(out / "fold_0" / "best.safetensors"))).one()


def test_overwrite_refuses_to_replace_the_current_version(data, tmp_path, capsys):
    """Issue 17: `train --overwrite` on a run whose version was promoted deleted that version;
    the scale lost its current model and the clinician's page its grade."""
    from fpgrade.models.current import current_versions

    out = tmp_path / "run"
    args = ["train", *FAST, "--data", data, "--protocol", "split:8:3:3", "--epochs", "1", "--out", out,
            "--seed", "21"]  # a seed of its own: weights no other test made
    assert run(capsys, *args)[0] == 0
    promoted = _version_of(out)
    assert run(capsys, "models", "promote", promoted.version, "--by", "alice")[0] == 0
    before = sha256_file(out / "fold_0" / "best.safetensors")
    code, _, err = run(capsys, *args, "--seed", "23", "--overwrite")
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    assert f"{promoted.version} is the current version of sided7" in err and "another --out" in err
    assert sha256_file(out / "fold_0" / "best.safetensors") == before
    assert current_versions(["sided7"])["sided7"].version == promoted.version
    # retired by a later promotion, it may come back by a rollback: still kept
    other = tmp_path / "other"
    assert run(capsys, "train", *FAST, "--data", data, "--protocol", "split:8:3:3", "--epochs", "1",
               "--seed", "25", "--out", other)[0] == 0
    assert run(capsys, "models", "promote", _version_of(other).version)[0] == 0
    code, _, err = run(capsys, *args, "--seed", "23", "--overwrite")
    assert code == 1 and "was promoted by alice (a rollback may serve it again)" in err
    assert _version_of(out).status == "retired"


def test_a_second_writer_into_one_run_folder_is_refused(data, tmp_path, capsys):
    """Issue 17: two `fpgrade train` into one --out both exited 0 with one run's weights and the
    other's records. Another process holds the folder (a real process, whatever it does)."""
    import subprocess
    import sys

    out = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from fpgrade.training.lock import run_lock\n"
         f"with run_lock({str(out)!r}):\n print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        args = ["train", *FAST, "--data", data, "--protocol", "split:8:3:3", "--epochs", "1",
                "--out", out]
        code, _, err = run(capsys, *args)
        assert code == 1 and err.strip() == (f"Error: {out}: another fpgrade process is writing a "
                                             "run there; wait for it to finish (or stop it), or "
                                             "choose another --out")
        assert not (out / "run.json").exists()
        code, _, err = run(capsys, "retrain", "--scale", "sided7", "--epochs", "1", "--out", out)
        assert code == 1 and "another fpgrade process is writing a run there" in err
    finally:
        holder.communicate("", timeout=60)
    assert run(capsys, *args)[0] == 0  # the lock goes with its process


def test_evaluate_refuses_a_fold_whose_weights_are_gone(data, tmp_path, capsys):
    """Issue 17: with one fold's weights deleted, evaluate exited 0 averaging the others."""
    out = tmp_path / "run"
    assert run(capsys, "train", *FAST, "--data", data, "--protocol", "kfold:2", "--epochs", "1",
               "--out", out)[0] == 0
    (out / "fold_1" / "best.safetensors").unlink()
    code, stdout, err = run(capsys, "evaluate", out, "--json")
    assert code == 1 and stdout.strip() == "" and "fold 1 (fold_1/best.safetensors)" in err
    assert "fold 0" not in err and not (out / "evaluation.json").exists()
