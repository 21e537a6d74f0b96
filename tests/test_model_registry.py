"""The model-version registry: statuses, promote / rollback / reject, and the clinic's current
version rule reading them (issue 12, part a)."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from fpgrade.cli import main
from fpgrade.clinic.models import current_versions
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


def test_without_a_promoted_version_the_newest_usable_one_is_current(tmp_path):
    old = _version(tmp_path, "m", "sided7", b"old")
    new = _version(tmp_path, "m", "sided7", b"new")
    assert current_versions()["sided7"].version == new
    with database.session() as session:
        lifecycle.reject(session, new, by="alice", reason="worse kappa")
    assert current_versions()["sided7"].version == old  # a rejected version never serves


def test_an_undecided_retrained_version_is_never_current_by_the_fallback_rule(tmp_path):
    """Plain training runs keep the rule of before; a retrain's version (it has a parent) serves
    only once promoted, whatever its age."""
    old = _version(tmp_path, "m", "sided7", b"old")
    with database.session() as session:
        parent = session.exec(select(ModelVersion.id).where(ModelVersion.version == old)).one()
    child = _version(tmp_path, "m", "sided7", b"retrained", parent_version_id=parent)
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
