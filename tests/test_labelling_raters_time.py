"""Per-labeller figures over time (issue 20): per ISO week and per block of items, agreement
with the final label and with each other rater, on the progress page and in the CSV export."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from fpgrade.labelling.campaigns import create_campaign
from fpgrade.labelling.final import set_final
from fpgrade.labelling.model import Method, PermissionDeniedError
from fpgrade.labelling.raters_time import FINAL, figures_over_time
from fpgrade.labelling.workflow import next_assignment, submit_label
from fpgrade.storage import database
from fpgrade.storage.tables import Assignment
from tests.labelling_helpers import add_media, users
from tests.labelling_helpers import fast_password_hashes  # noqa: F401 - autouse fixture

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)    # ISO week 2026-W48


@pytest.fixture
def labelled(registry):
    """4 media; ann and bob label all, week 48 for the first two, week 49 for the others; ann
    agrees with bob on 3 of 4; final labels on media 0 and 2 (ann right on 0 only)."""
    team = users(ann="labeller", bob="labeller", dan="admin")
    media = add_media(4)
    ann = dict(zip(media, ["I", "II", "III", "IV"]))
    bob = dict(zip(media, ["I", "II", "IV", "IV"]))
    final = {media[0]: "I", media[2]: "IV"}
    with database.session() as session:
        c = create_campaign(session, "c1", "house_brackmann", registry=registry, seed=1)
        for user, labels in (("ann", ann), ("bob", bob)):
            while (task := next_assignment(session, team[user], c.id)) is not None:
                submit_label(session, team[user], task.assignment_id,
                             label=labels[task.media_id])
        for row in session.exec(select(Assignment).where(Assignment.pass_kind == "blind")).all():
            index = media.index(row.media_id)
            row.claimed_at = MONDAY + timedelta(days=7 * (index >= 2), minutes=index)
            row.done_at = row.claimed_at + timedelta(seconds=10 + index)
            session.add(row)
        for medium, label in final.items():
            set_final(session, media_id=medium, scale="house_brackmann", label=label,
                      method=Method.ADJUDICATED, decided_by="dan", campaign_id=c.id)
        session.commit()
    return team, c


def test_per_week_and_per_block_with_the_final_label_and_each_other(labelled):
    team, c = labelled
    with database.session() as session:
        weeks = figures_over_time(session, c.id, by=team["dan"])
        blocks = figures_over_time(session, c.id, per_items=3, by=team["dan"])
        with pytest.raises(PermissionDeniedError):
            figures_over_time(session, c.id, by=team["ann"])
    got = {(f.rater, f.period): f for f in weeks}
    assert sorted(got) == [("ann", "2026-W48"), ("ann", "2026-W49"), ("bob", "2026-W48"),
                           ("bob", "2026-W49")]
    first, second = got["ann", "2026-W48"], got["ann", "2026-W49"]
    assert (first.items, first.median_seconds) == (2, 10.5)
    assert (first.agreement[FINAL].n, first.agreement[FINAL].share) == (1, 1.0)
    assert (second.agreement[FINAL].n, second.agreement[FINAL].share) == (1, 0.0)
    assert (first.agreement["bob"].n, first.agreement["bob"].share) == (2, 1.0)
    assert (second.agreement["bob"].n, second.agreement["bob"].share) == (2, 0.5)
    assert set(first.agreement) == {FINAL, "bob"}        # never with herself
    assert [(f.rater, f.period, f.items) for f in blocks] == [
        ("ann", "items 1-3", 3), ("ann", "items 4-6", 1),
        ("bob", "items 1-3", 3), ("bob", "items 4-6", 1)]


def test_the_progress_page_and_the_export_show_them(labelled, tmp_path):
    from fpgrade_ui.labelling_progress import export_figures_csv, progress

    team, c = labelled
    page = progress(team["dan"], c.id)
    assert "#### Per labeller, per week" in page
    # columns: final label, then each rater (a rater's own column is empty)
    assert "| ann | 2026-W49 | 2 | 12.5 s | 0% (1) |  | 50% (2) |" in page
    assert "#### Per labeller, per 50 items" in page
    path, rows = export_figures_csv(team["dan"], c.id, str(tmp_path))
    with open(path, newline="") as handle:
        table = list(csv.DictReader(handle))
    assert rows == len(table) == 12          # (4 weeks + 2 blocks) x (final label + other)
    assert {"rater": "ann", "period": "2026-W49", "items": "2", "median_seconds": "12.5",
            "compared_with": "bob", "n": "2", "agreement": "0.500"} in table
