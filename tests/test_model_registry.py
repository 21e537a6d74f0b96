"""The model-version registry: statuses, promote / rollback / reject, and the clinic's current
version rule reading them (issue 12, part a)."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from fpgrade.cli import main
from fpgrade.models.current import current_versions
from fpgrade.models import lifecycle
from fpgrade.models.versions import version_name
from fpgrade.storage import database
from fpgrade.storage.tables import AuditEvent, ModelVersion


def _version(tmp_path, model: str, scale: str, content: bytes, **fields) -> str:
    path = tmp_path / f"{model}-{hashlib.md5(content).hexdigest()}.safetensors"
    path.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    name = version_name(model, digest)
    with database.session() as session:
        session.add(ModelVersion(model_id=model, version=name, scale=scale, weights_sha256=digest,
                                 weights_path=str(path), **fields))
        session.commit()
    return name


def _status(name: str) -> str:
    with database.session() as session:
        return session.exec(select(ModelVersion).where(ModelVersion.version == name)).one().status


#: test metrics of a version that learned something: above the commonest grade's share and 1/K
GOOD = {"accuracy": 0.7, "macro_f1": 0.6, "samples": 40, "test_classes": 3, "majority_share": 0.4}


def test_without_a_promoted_version_the_newest_usable_one_is_current(tmp_path):
    old = _version(tmp_path, "m", "sided7", b"old", test_metrics=GOOD)
    new = _version(tmp_path, "m", "sided7", b"new", test_metrics=GOOD)
    assert current_versions()["sided7"].version == new
    with database.session() as session:
        lifecycle.reject(session, new, by="alice", reason="worse kappa")
    assert current_versions()["sided7"].version == old  # a rejected version never serves


def test_an_undecided_retrained_version_is_never_current_by_the_fallback_rule(tmp_path):
    """Plain training runs keep the rule of before; a retrain's version (it has a parent) serves
    only once promoted, whatever its age."""
    old = _version(tmp_path, "m", "sided7", b"old", test_metrics=GOOD)
    with database.session() as session:
        parent = session.exec(select(ModelVersion.id).where(ModelVersion.version == old)).one()
    child = _version(tmp_path, "m", "sided7", b"retrained", parent_version_id=parent,
                     test_metrics=GOOD)
    assert current_versions()["sided7"].version == old
    with database.session() as session:
        lifecycle.promote(session, child, by="alice")
    assert current_versions()["sided7"].version == child


def test_promote_rollback_and_reject_from_the_command_line(tmp_path, capsys):
    first = _version(tmp_path, "m", "sided7", b"one", test_metrics={"macro_f1": 0.5})
    second = _version(tmp_path, "m", "sided7", b"two")
    newest = _version(tmp_path, "m", "sided7", b"three")
    assert main(["models", "promote", first, "--by", "alice"]) == 0
    assert current_versions()["sided7"].version == first  # promoted beats newer candidates
    assert current_versions()["sided7"].metrics == {"macro_f1": 0.5}
    assert main(["models", "promote", second, "--by", "bob", "--reason", "better"]) == 0
    assert (_status(first), _status(second), _status(newest)) == ("retired", "current", "candidate")
    assert main(["models", "rollback", "sided7", "--by", "carol"]) == 0
    assert "retired; " in capsys.readouterr().out
    assert (_status(first), _status(second)) == ("current", "retired")
    assert current_versions()["sided7"].version == first
    assert main(["models", "reject", newest, "--reason", "blurry labels"]) == 0
    assert main(["models", "reject", first, "--reason", "x"]) == 1  # current: roll back first
    assert "is current for sided7" in capsys.readouterr().err
    assert main(["models", "versions", "--json"]) == 0
    rows = {r["version"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows[first]["promoted_by"] == "alice" and rows[first]["status"] == "current"
    assert rows[newest]["status_reason"] == "blurry labels"
    with database.session() as session:
        actions = [(e.actor, e.action) for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions[:2] == [("alice", "version_promote"), ("bob", "version_retire")]
    assert ("carol", "version_rollback") in actions


def test_bad_names_and_nothing_to_roll_back_are_one_line_errors(tmp_path, capsys):
    assert main(["models", "promote", "nosuch-000000000000"]) == 1
    assert capsys.readouterr().err.strip() == (
        "Error: no model version 'nosuch-000000000000' (see `fpgrade models versions`)")
    only = _version(tmp_path, "m", "sided7", b"only")
    assert main(["models", "promote", only]) == 0
    assert main(["models", "rollback", "sided7"]) == 1
    assert "nothing to roll back to" in capsys.readouterr().err


def test_a_promoted_version_whose_weights_changed_is_not_replaced_silently(tmp_path):
    old = _version(tmp_path, "m", "sided7", b"old")
    promoted = _version(tmp_path, "m", "sided7", b"promoted")
    with database.session() as session:
        lifecycle.promote(session, promoted, by="alice")
        path = session.exec(select(ModelVersion.weights_path).where(
            ModelVersion.version == promoted)).one()
    open(path, "wb").write(b"tampered")
    info = current_versions()["sided7"]
    assert info.model_id == "" and "has changed since training" in info.problems[0]
    assert old  # the older candidate is not served instead


def test_the_database_holds_at_most_one_current_version_per_scale(tmp_path):
    _version(tmp_path, "m", "sided7", b"a", status="current")
    with pytest.raises(IntegrityError):
        _version(tmp_path, "m", "sided7", b"b", status="current")
    _version(tmp_path, "m", "house_brackmann", b"c", status="current")  # another scale: fine


def test_snapshot_hash_ignores_order():
    assert lifecycle.snapshot_hash([3, 1, 2]) == lifecycle.snapshot_hash([1, 2, 3])
    assert lifecycle.snapshot_hash([1, 2]) != lifecycle.snapshot_hash([1, 2, 3])


def test_labels_a_rejected_retrain_was_trained_on_are_not_new_again(tmp_path):
    """`fpgrade sync serve` retrains past N new final labels: after a rejected retrain the same
    labels must not start the same retrain again."""
    from fpgrade.storage.tables import FinalLabel
    from tests.labelling_helpers import add_media

    media = add_media(5, prefix="NEW")
    with database.session() as session:
        rows = [FinalLabel(media_id=m, scale="sided7", label="N", method="imported", decided_by="t")
                for m in media]
        session.add_all(rows)
        session.commit()
        ids = [r.id for r in rows]
    current = _version(tmp_path, "m", "sided7", b"current", data_snapshot=ids[:2])
    with database.session() as session:
        row = lifecycle.get_version(session, current)
        assert lifecycle.new_final_labels(session, row) == set(ids[2:])
        parent_id = row.id
    _version(tmp_path, "m", "sided7", b"tried", data_snapshot=ids[:4], parent_version_id=parent_id,
             status="rejected")
    with database.session() as session:
        assert lifecycle.new_final_labels(session, lifecycle.get_version(session, current)) == {ids[4]}


@pytest.mark.parametrize("metrics, why", [
    ({}, "no test metrics"),
    ({"accuracy": 0.0, "macro_f1": 0.0, "samples": 15, "test_classes": 3, "majority_share": 0.4},
     "no better than always answering the commonest grade"),
    ({"accuracy": 1.0, "macro_f1": 1.0, "samples": 15, "test_classes": 1, "majority_share": 1.0},
     "one grade only"),
    ({"accuracy": 0.55, "macro_f1": 0.2, "samples": 20, "test_classes": 3, "majority_share": 0.5},
     "no better than guessing among 3 grades"),
])
def test_the_fallback_rule_never_serves_a_version_at_chance(tmp_path, metrics, why):
    """Issue 17: a one-class data set registered candidates with accuracy 0 that the "newest
    usable version" rule served when nothing was promoted."""
    good = _version(tmp_path, "m", "sided7", b"good", test_metrics=GOOD)
    bad = _version(tmp_path, "m", "sided7", b"bad", test_metrics=metrics)
    info = current_versions()["sided7"]
    assert info.version == good
    assert len(info.problems) == 1 and info.problems[0].startswith(bad) and why in info.problems[0]
    with database.session() as session:
        lifecycle.reject(session, good, by="alice", reason="x")
    assert current_versions()["sided7"].model_id == ""  # nothing served rather than chance
    with database.session() as session:
        lifecycle.promote(session, bad, by="alice")  # a person's promotion is served
    assert current_versions()["sided7"].version == bad


def test_a_version_whose_weights_are_gone_cannot_be_promoted(tmp_path, capsys):
    name = _version(tmp_path, "m", "sided7", b"gone")
    with database.session() as session:
        path = lifecycle.get_version(session, name).weights_path
    import os

    os.remove(path)
    assert main(["models", "promote", name]) == 1
    assert capsys.readouterr().err.strip() == f"Error: cannot promote {name}: weight file {path} is gone"
    assert _status(name) == "candidate"


def test_automatic_promotion_is_opt_in_with_a_test_size_and_a_metric():
    from fpgrade.models.promotion import PromotionPolicyError, auto_promotion, decide_promotion

    assert auto_promotion(False, None, None) is None
    for args in ((True, None, 0.5), (True, 20, None), (False, 20, 0.5), (True, 0, 0.5),
                 (True, 20, 0.0), (True, 20, 1.5)):
        with pytest.raises(PromotionPolicyError):
            auto_promotion(*args)
    policy = auto_promotion(True, 20, 0.5)
    # without the opt-in, a person promotes, however good the version
    assert decide_promotion(None, "macro_f1", 0.9, GOOD) == (
        False, "awaiting a person's promotion (`fpgrade models promote VERSION`)")
    # what sync serve did: macro-F1 0.000 "not worse than 0.000", judged on 15 test samples
    zero = {"accuracy": 0.0, "macro_f1": 0.0, "samples": 15, "test_classes": 2, "majority_share": 0.6}
    promote, reason = decide_promotion(policy, "macro_f1", 0.0, zero)
    assert not promote and "15 test samples, fewer than --min-test-samples 20" in reason
    promote, reason = decide_promotion(policy, "macro_f1", 0.4, {**GOOD, "macro_f1": 0.4})
    assert not promote and "macro_f1 0.400 is below --min-metric 0.5" in reason
    at_chance = {**GOOD, "accuracy": 0.3}
    promote, reason = decide_promotion(policy, "macro_f1", 0.6, at_chance)
    assert not promote and "commonest grade" in reason
    assert decide_promotion(policy, "macro_f1", 0.6, GOOD)[0] is True


def test_audit_events_name_the_version_and_ids_are_never_given_again(tmp_path):
    """Issue 17: `train --overwrite` deleted a version row, SQLite gave its id to the next
    version, and the audit log's version_promote event pointed at the new candidate."""
    from fpgrade.training.records import forget_run

    run = tmp_path / "run"
    (run / "fold_0").mkdir(parents=True)
    weights = run / "fold_0" / "best.safetensors"
    weights.write_bytes(b"first weights")
    digest = hashlib.sha256(b"first weights").hexdigest()
    with database.session() as session:
        session.add(ModelVersion(model_id="m", version=version_name("m", digest), scale="sided7",
                                 weights_sha256=digest, weights_path=str(weights)))
        session.commit()
        first = session.exec(select(ModelVersion)).one()
        first_id, first_name = first.id, first.version
    forget_run(run)  # what --overwrite does to the records of the run it replaces
    weights.write_bytes(b"other weights")
    newer = _version(tmp_path, "m", "sided7", b"other weights")
    with database.session() as session:
        kept = session.get(ModelVersion, first_id)
        assert kept.version == first_name and kept.status == "rejected"
        assert "run folder was overwritten" in kept.status_reason
        assert lifecycle.get_version(session, newer).id > first_id
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "version_overwritten")).one()
        assert event.details["model_version"] == first_name
        assert event.details["model_version_id"] == first_id


def test_sync_serve_refuses_an_incomplete_promotion_policy_before_starting(capsys):
    assert main(["sync", "serve", "--auto-promote", "--min-test-samples", "30"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("Error: --auto-promote needs --min-test-samples N and --min-metric X")
    assert len(err.splitlines()) == 1
    assert main(["sync", "serve", "--min-metric", "0.5"]) == 1
    assert "apply to --auto-promote only" in capsys.readouterr().err


def test_the_same_weights_trained_again_bring_back_the_withdrawn_version(tmp_path, monkeypatch):
    """Training is deterministic: `train --overwrite` may write the very bytes it replaced. The
    version (same name) is then a candidate again, with its id, not a rejected one that a new
    row could not replace (the name is unique)."""
    from fpgrade.models import weights as weight_files
    from fpgrade.training.records import forget_run, write_run_records

    monkeypatch.setattr(weight_files, "read_card", lambda path: {})
    run = tmp_path / "run"
    (run / "fold_0").mkdir(parents=True)
    weights = run / "fold_0" / "best.safetensors"
    weights.write_bytes(b"deterministic")
    digest = hashlib.sha256(b"deterministic").hexdigest()
    info, summary = {"protocol": "split:8:3:3"}, {"folds_tested": 1, "folds_total": 1}

    def record():
        with database.session() as session:
            (row,) = write_run_records(session, info, summary, run, "m", "sided7", [(weights, digest)])
            session.commit()
            return row.id, row.status

    first_id, status = record()
    assert status == "candidate"
    forget_run(run)
    assert _status(version_name("m", digest)) == "rejected"
    assert record() == (first_id, "candidate")
    with database.session() as session:
        actions = [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["version_overwritten", "version_restore"]


def test_sync_serve_starts_retrains_with_the_groups_promotion_policy(tmp_path):
    from fpgrade.cli.sync import retrain_command
    from fpgrade.models.promotion import auto_promotion

    plain = retrain_command("sided7", 3, 0.0, tmp_path / "re", None)
    assert "--auto-promote" not in plain and plain[-2:] == ["--out", str(tmp_path / "re")]
    opted = retrain_command("sided7", 3, 0.0, tmp_path / "re", auto_promotion(True, 40, 0.6))
    assert opted[-5:] == ["--auto-promote", "--min-test-samples", "40", "--min-metric", "0.6"]
    assert main([*opted[3:], "--help"]) == 0  # options fpgrade retrain knows
