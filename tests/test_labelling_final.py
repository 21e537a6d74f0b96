"""Final labels are what training reads: a blind second pass no longer overrides the first,
imports are final only where nothing is, and a campaign's decision replaces an import."""

from __future__ import annotations

from sqlmodel import select

from fpgrade.labelling.campaigns import create_campaign
from fpgrade.labelling.final import final_labels, set_final
from fpgrade.labelling.model import Method
from fpgrade.labelling.second_check import run_second_check
from fpgrade.labelling.workflow import adjudication_queue, decide
from fpgrade.storage import database
from fpgrade.storage.tables import Annotation, FinalLabel
from fpgrade.training.data import records_from_database
from tests.labelling_helpers import add_media, users
from tests.labelling_helpers import fast_password_hashes  # noqa: F401 - autouse fixture
from tests.test_labelling_workflow import label_pass


def records(registry, scale="sided7"):
    with database.session() as session:
        return records_from_database(session, registry.scale(scale), registry)


def test_a_blind_second_pass_no_longer_overrides_the_first(registry):
    team = users(ann="labeller", bob="labeller", cara="adjudicator")
    (medium,) = add_media(1)
    with database.session() as session:
        c = create_campaign(session, "c", "sided7", registry=registry)
    label_pass(team["ann"], c.id, {medium: "L1"})
    label_pass(team["bob"], c.id, {medium: "L3"})  # pass 2, the later one
    with database.session() as session:
        passes = session.exec(select(Annotation.pass_number, Annotation.label)).all()
        assert sorted(passes) == [(1, "L1"), (2, "L3")]  # the old rule would train on L3
    found = records(registry)
    assert found.records == []
    assert found.skipped["labelled but no final label yet (labelling not finished)"] == 1
    with database.session() as session:
        (case,) = adjudication_queue(session, team["cara"], c.id)
        decide(session, team["cara"], case.assignment_id, label="L1", reason="pass 2 misread the side")
    (record,) = records(registry).records
    assert (record.label, record.subject) == ("L1", "P000")


def test_agreed_blind_passes_train_only_once_the_second_check_agreed(registry):
    team = users(ann="labeller", bob="labeller")
    media = add_media(4)
    with database.session() as session:
        c = create_campaign(session, "c", "sided7", registry=registry)
    label_pass(team["ann"], c.id, {m: "R2" for m in media})
    label_pass(team["bob"], c.id, {m: "R2" for m in media})
    assert records(registry).records == []
    with database.session() as session:
        run_second_check(session, c.id, indices_of=lambda path, kind: {"RgAs": 0.3, "AnAs": 2.0})
        (final, *_) = final_labels(session, "sided7")
        assert final.method == "agreed_checked" and len(final.annotation_ids) == 2
        assert final.check_result_id is not None and final.campaign == "c"
    assert [r.label for r in records(registry).records] == ["R2"] * 4
    # converted on the way: sided7 R2 -> palsy_binary
    assert {r.label for r in records(registry, "palsy_binary").records} == {"palsy"}


def test_imports_are_final_where_nothing_is_and_a_campaign_replaces_them(registry):
    (medium,) = add_media(1)
    with database.session() as session:
        stored, wrote = set_final(session, media_id=medium, scale="sided7", label="L1",
                                  method=Method.IMPORTED, decided_by="import")
        assert wrote
        _, wrote = set_final(session, media_id=medium, scale="sided7", label="L2",
                             method=Method.IMPORTED, decided_by="import")
        assert not wrote  # an import never overrides
        stored, wrote = set_final(session, media_id=medium, scale="sided7", label="R1",
                                  method=Method.ADJUDICATED, decided_by="cara", reason="r")
        assert wrote and (stored.label, stored.method) == ("R1", "adjudicated")
        _, wrote = set_final(session, media_id=medium, scale="sided7", label="N",
                             method=Method.AGREED_CHECKED, decided_by="x")
        assert not wrote  # nothing replaces a campaign's decision
        session.commit()
        assert session.exec(select(FinalLabel.label)).all() == ["R1"]


def test_the_importer_writes_imported_final_labels_only_where_imports_agree(tmp_path, registry):
    from fpgrade.importer import import_manifest
    from tests.media_factory import astronaut, write_image

    write_image(tmp_path / "a.jpg")
    write_image(tmp_path / "b.jpg", astronaut()[::-1].copy())
    (tmp_path / "m.csv").write_text("subject,path,movement,scale,label,annotator,pass\n"
                                    "P1,a.jpg,MV0,sided7,L2,dr_a,1\n"
                                    "P1,a.jpg,MV0,sided7,L2,dr_b,2\n"
                                    "P2,b.jpg,MV0,sided7,L2,dr_a,1\n"
                                    "P2,b.jpg,MV0,sided7,R3,dr_b,2\n")
    with database.session() as session:
        report = import_manifest(tmp_path / "m.csv", session=session, registry=registry)
        assert (report.annotations_added, report.undecided) == (4, 1)
        (final,) = final_labels(session)
        assert (final.subject, final.label, final.method) == ("P1", "L2", "imported")
        assert len(final.annotation_ids) == 2
    found = records(registry)
    assert [(r.subject, r.label) for r in found.records] == [("P1", "L2")]
    assert found.skipped["labelled but no final label yet (labelling not finished)"] == 1
