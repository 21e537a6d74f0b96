"""``fpgrade retrain`` on SYNTHETIC data with asymmetry_classifier (fast): the fixed split, the
promotion rule, the registry record (issue 12, part e)."""

from __future__ import annotations

import csv
import json

from sqlmodel import select

from fpgrade.cli import main
from fpgrade.storage import database
from fpgrade.storage.tables import ModelVersion
from fpgrade.training.retrain import decide, goes_to_test


def test_the_promotion_rule():
    assert decide(0.60, 0.59, "macro_f1", 0.02)[0] is True
    promote, reason = decide(0.60, 0.50, "macro_f1", 0.02)
    assert promote is False and "worse than the current 0.6000 by more than 0.02" in reason
    assert decide(None, 0.5, "macro_f1", 0.0)[0] is True
    assert decide(0.5, None, "macro_f1", 0.0)[0] is False


def test_the_rule_for_a_new_subject_is_fixed():
    assert [goes_to_test(f"S{i}") for i in range(20)] == [goes_to_test(f"S{i}") for i in range(20)]
    assert 0 < sum(goes_to_test(f"S{i:03d}") for i in range(200)) < 200


def _subset(manifest, keep):
    rows = list(csv.DictReader(manifest.open()))
    out = manifest.with_name(f"part-{len(keep)}.csv")
    with out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(r for r in rows if r["subject"] in keep)
    return out


def _row(version):
    with database.session() as session:
        return session.exec(select(ModelVersion).where(ModelVersion.version == version)).one()


def test_retrain_keeps_the_test_split_and_promotes_or_rejects(synthetic_sided7, tmp_path, capsys,
                                                              monkeypatch):
    subjects = sorted({r["subject"] for r in csv.DictReader(synthetic_sided7.open())})
    first, later = subjects[:-2], subjects[-2:]
    assert main(["import", str(_subset(synthetic_sided7, first))]) == 0
    run = tmp_path / "run"
    assert main(["train", "--model", "asymmetry_classifier", "--scale", "sided7", "--batch-size", "8",
                 "--data", "db", "--protocol", "kfold:2", "--epochs", "2", "--out", str(run),
                 "--json"]) == 0
    capsys.readouterr()
    with database.session() as session:
        fold0 = session.exec(select(ModelVersion).where(
            ModelVersion.weights_path == str(run / "fold_0" / "best.safetensors"))).one().version
    assert main(["models", "promote", fold0, "--by", "alice"]) == 0
    old_test = json.loads((run / "splits.json").read_text())["folds"][0]["test"]

    assert main(["import", str(synthetic_sided7)]) == 0  # two new subjects, with final labels
    capsys.readouterr()
    assert main(["retrain", "--scale", "sided7", "--epochs", "2", "--batch-size", "8", "--out",
                 str(tmp_path / "re1"), "--margin", "1.0", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    # not worse: a candidate, until a person promotes it (issue 17: promotion safe by default)
    assert result["status"] == "candidate" and result["kept"] == fold0
    assert "awaiting a person's promotion" in result["reason"]
    assert _row(result["version"]).status == "candidate" and _row(fold0).status == "current"
    assert main(["models", "promote", result["version"], "--by", "alice"]) == 0
    capsys.readouterr()
    assert set(old_test) <= set(result["test_subjects"])  # old test subjects stay in test
    assert sorted(result["new_subjects"]) == later
    assert {s for s in later if goes_to_test(s)} <= set(result["test_subjects"])
    split = json.loads((tmp_path / "re1" / "splits.json").read_text())["folds"][0]
    assert {s for s in later if not goes_to_test(s)} <= set(split["train"])
    assert set(result["old"]) == set(result["new"]) == {"macro_f1", "accuracy", "quadratic_weighted_kappa"}
    new = _row(result["version"])
    assert new.status == "current" and new.parent_version_id == _row(fold0).id
    assert new.training_run_id is not None and len(new.data_snapshot) == result["final_labels"]
    assert new.data_snapshot_sha256 == result["data_snapshot_sha256"]
    assert _row(fold0).status == "retired"

    # a worse new version is kept, rejected, with the reason and both metrics; current stays
    import fpgrade.training.retrain as module

    monkeypatch.setattr(module, "decide", lambda old, new, metric, margin: decide(0.9, 0.1, metric, margin))
    assert main(["retrain", "--scale", "sided7", "--epochs", "1", "--batch-size", "8", "--out",
                 str(tmp_path / "re2"), "--seed", "1", "--json"]) == 0
    rejected = json.loads(capsys.readouterr().out)
    assert rejected["status"] == "rejected" and "worse than the current" in rejected["reason"]
    assert rejected["kept"] == result["version"]  # compared with the version now current
    row = _row(rejected["version"])
    assert row.status == "rejected" and "worse" in row.status_reason
    assert set(row.test_metrics["old"]) == {"macro_f1", "accuracy", "quadratic_weighted_kappa"}
    assert _row(result["version"]).status == "current"


def test_automatic_promotion_needs_its_test_size_and_metric(synthetic_sided7, tmp_path, capsys):
    """A group's opt-in is checked before anything runs, and a version judged on fewer test
    samples than asked stays a candidate (issue 17: sync serve promoted macro-F1 0.000 judged
    on 15 samples)."""
    assert main(["import", str(synthetic_sided7)]) == 0
    assert main(["retrain", "--scale", "sided7", "--epochs", "1", "--out", str(tmp_path / "x"),
                 "--auto-promote", "--min-metric", "0.5"]) == 1
    assert "--auto-promote needs --min-test-samples N and --min-metric X" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    run = tmp_path / "run"
    assert main(["train", "--model", "asymmetry_classifier", "--scale", "sided7", "--batch-size", "8",
                 "--data", "db", "--protocol", "kfold:2", "--epochs", "1", "--out", str(run),
                 "--json"]) == 0
    capsys.readouterr()
    with database.session() as session:
        fold0 = session.exec(select(ModelVersion).where(
            ModelVersion.weights_path == str(run / "fold_0" / "best.safetensors"))).one()
    # train recorded its test metrics on every version (issue 17: they were empty)
    test = json.loads((run / "fold_0" / "test.json").read_text())
    assert fold0.test_metrics["samples"] == test["samples"] > 0
    assert fold0.test_metrics["macro_f1"] == test["macro"]["f1"]
    assert fold0.test_metrics["accuracy"] == test["accuracy"]
    assert main(["models", "promote", fold0.version]) == 0
    capsys.readouterr()
    assert main(["retrain", "--scale", "sided7", "--epochs", "1", "--batch-size", "8", "--out",
                 str(tmp_path / "re"), "--margin", "1.0", "--auto-promote", "--min-test-samples",
                 "100000", "--min-metric", "0.1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "candidate" and _row(fold0.version).status == "current"
    assert "fewer than --min-test-samples 100000" in result["reason"]
    assert _row(result["version"]).status_reason == result["reason"]
    # a resume must name the same policy
    assert main(["retrain", "--scale", "sided7", "--epochs", "1", "--batch-size", "8", "--out",
                 str(tmp_path / "re"), "--margin", "1.0", "--resume"]) == 1
    assert "auto_promote True (asked: False)" in capsys.readouterr().err
