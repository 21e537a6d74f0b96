"""``fpgrade retrain --resume`` on SYNTHETIC data with asymmetry_classifier: a retrain killed at
any point is finished by running it again with --resume, nothing from an unfinished retrain is
ever current, and a resume against another current version or other options is refused in one
line (issue 12). Outcomes are forced with --margin 1.0, never left to training quality."""

from __future__ import annotations

import csv
import json

from sqlmodel import select

from fpgrade.cli import main
from fpgrade.models.current import current_versions
from fpgrade.errors import TrainingError
from fpgrade.storage import database
from fpgrade.storage.tables import ModelVersion, TrainingRun
from tests.interrupt import kill_once_checkpointed
from tests.test_retrain import _row, _subset

RETRAIN = ["retrain", "--scale", "sided7", "--batch-size", "8", "--margin", "1.0"]


def run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def subjects_of(manifest) -> list[str]:
    return sorted({r["subject"] for r in csv.DictReader(manifest.open())})


def _trained(manifest, tmp_path, capsys, keep: int) -> tuple[list[str], list[str]]:
    """The first ``keep`` subjects imported and trained on (kfold:2): subjects, fold versions."""
    subjects = subjects_of(manifest)
    assert run(capsys, "import", _subset(manifest, subjects[:keep]))[0] == 0
    out = tmp_path / "run"
    assert run(capsys, "train", "--model", "asymmetry_classifier", "--scale", "sided7", "--batch-size",
               "8", "--data", "db", "--protocol", "kfold:2", "--epochs", "2", "--out", out)[0] == 0
    with database.read_session() as session:
        folds = [session.exec(select(ModelVersion.version).where(ModelVersion.weights_path == str(
            out / f"fold_{i}" / "best.safetensors"))).one() for i in (0, 1)]
    return subjects, folds


def _records_of(out):
    with database.read_session() as session:
        versions = [v for v in session.exec(select(ModelVersion)).all()
                    if v.weights_path.startswith(str(out))]
        runs = session.exec(select(TrainingRun).where(TrainingRun.out_dir == str(out))).all()
    return versions, runs


def test_a_retrain_killed_while_training_is_finished_by_resume(synthetic_sided7, tmp_path, capsys):
    """A real SIGKILL once the retrain has checkpointed; nothing new is current meanwhile; the
    resume continues the training, leaves out a subject labelled after the start, and decides
    (a candidate: a person promotes it)."""
    subjects, (old, _) = _trained(synthetic_sided7, tmp_path, capsys,
                                  keep=len(subjects_of(synthetic_sided7)) - 3)
    assert run(capsys, "models", "promote", old, "--by", "alice")[0] == 0
    assert run(capsys, "import", _subset(synthetic_sided7, subjects[:-1]))[0] == 0  # two new subjects
    out = tmp_path / "re"
    args = [*RETRAIN, "--epochs", "30", "--out", str(out)]
    kill_once_checkpointed(args, out / "fold_0" / "state.pt", "the retrain")
    assert not (out / "summary.json").is_file(), "killed too late: training had finished"
    plan = json.loads((out / "retrain.json").read_text())
    assert plan["parent"] == old and plan["new_subjects"] == subjects[-3:-1]
    assert current_versions()["sided7"].version == old
    assert _records_of(out) == ([], [])  # nothing registered, so nothing can be served

    assert run(capsys, "import", synthetic_sided7)[0] == 0  # a subject labelled after the start
    code, _, err = run(capsys, *args)
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "already holds a retrain: pass --resume to finish it" in err

    code, stdout, err = run(capsys, *args, "--resume", "--json")
    assert code == 0, err
    result = json.loads(stdout)
    assert result["status"] == "candidate" and result["kept"] == old  # a person promotes it
    assert result["new_subjects"] == subjects[-3:-1]
    split = json.loads((out / "splits.json").read_text())["folds"][0]
    assert subjects[-1] not in {*split["train"], *split["val"], *split["test"]}
    history = json.loads((out / "fold_0" / "history.json").read_text())
    assert [h["epoch"] for h in history] == list(range(30))  # continued, not restarted
    new = _row(result["version"])
    assert new.status == "candidate" and new.parent_version_id == _row(old).id
    assert new.data_snapshot == plan["final_label_ids"] and result["final_labels"] == len(plan["final_label_ids"])
    assert new.test_metrics["compared_with"] == old and new.test_metrics["macro_f1"] is not None
    assert current_versions()["sided7"].version == old
    assert run(capsys, "models", "promote", result["version"])[0] == 0
    assert current_versions()["sided7"].version == result["version"]


def test_a_crash_before_comparing_or_while_deciding_is_finished_by_resume(synthetic_sided7, tmp_path,
                                                                          capsys, monkeypatch):
    import fpgrade.models.lifecycle as lifecycle
    import fpgrade.training.retrain as module

    _, (fold0, fold1) = _trained(synthetic_sided7, tmp_path, capsys,
                                 keep=len(subjects_of(synthetic_sided7)) - 2)
    assert run(capsys, "models", "promote", fold0, "--by", "alice")[0] == 0
    assert run(capsys, "import", synthetic_sided7)[0] == 0
    out = tmp_path / "re"
    args = [*RETRAIN, "--epochs", "1", "--out", out]

    def power_cut(*_, **__):
        raise TrainingError("power cut")

    with monkeypatch.context() as patch:  # trained, stopped before the comparison
        patch.setattr(module, "compare", power_cut)
        assert run(capsys, *args)[0] == 1
    assert (out / "summary.json").is_file() and not (out / "comparison.json").is_file()

    with monkeypatch.context() as patch:  # compared; the version's rows added, then the decision fails
        def registered_then_cut(session, row, **_):
            assert session.get(ModelVersion, row.id) is not None  # the row is in the transaction
            raise TrainingError("power cut")

        patch.setattr(lifecycle, "keep_candidate", registered_then_cut)
        code, _, err = run(capsys, *args, "--resume")
        assert code == 1 and "power cut" in err
    assert (out / "comparison.json").is_file()
    assert _records_of(out) == ([], [])  # rolled back with the decision: nothing half-registered
    from fpgrade.training.retrain_plan import unfinished_plans  # what `sync serve` finds

    assert [(folder, plan.parent) for folder, plan in unfinished_plans(tmp_path)] == [(out.resolve(), fold0)]
    assert current_versions()["sided7"].version == fold0 and _row(fold0).status == "current"

    code, _, err = run(capsys, *[a if a != "1.0" else "0.5" for a in args], "--resume")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "margin 1.0 (asked: 0.5)" in err
    code, _, err = run(capsys, *RETRAIN, "--epochs", "1", "--out", tmp_path / "none", "--resume")
    assert code == 1 and "no retrain to resume here" in err

    assert run(capsys, "models", "promote", fold1, "--by", "bob")[0] == 0  # another current version
    code, _, err = run(capsys, *args, "--resume")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert f"current version of sided7 is now {fold1}, not {fold0}" in err
    assert run(capsys, "models", "promote", fold0, "--by", "alice")[0] == 0  # back to the plan's parent

    code, stdout, err = run(capsys, *args, "--resume", "--json")
    assert code == 0, err
    result = json.loads(stdout)
    assert result["status"] == "candidate" and result["kept"] == fold0
    new = _row(result["version"])
    assert new.status == "candidate" and new.parent_version_id == _row(fold0).id
    assert new.test_metrics["old"] and _row(fold0).status == "current"
    versions, runs = _records_of(out)
    assert len(versions) == 1 and len(runs) == 1 and runs[0].status == "finished"

    assert unfinished_plans(tmp_path) == []
    code, stdout, err = run(capsys, *args, "--resume", "--json")  # decided already: reported again
    assert code == 0, err
    assert json.loads(stdout)["version"] == result["version"]
    assert len(_records_of(out)[0]) == 1
