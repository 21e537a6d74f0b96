"""A campaign's guideline (issue 20): the admin's Markdown rendered safely (no raw HTML, no
script or data links, no outside image), stored by an admin only (audited, with a limit), and
example photos per grade chosen from the campaign's own final labels; the page handler copies
them under neutral names."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from fpgrade.labelling import audit
from fpgrade.labelling.campaigns import create_campaign
from fpgrade.labelling.final import set_final
from fpgrade.labelling.guideline import (
    MAX_GUIDELINE, campaign_guideline, examples, render, set_guideline,
)
from fpgrade.labelling.model import LabellingError, Method, PermissionDeniedError
from fpgrade.media import MediaKind
from fpgrade.storage import database
from fpgrade.storage.tables import Media
from tests.labelling_helpers import add_media, users
from tests.labelling_helpers import fast_password_hashes  # noqa: F401 - autouse fixture

LEVELS = ["I", "II", "III", "IV", "V", "VI"]


class _Tags(HTMLParser):
    """Every tag and attribute of rendered HTML (what a browser would build)."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


SAFE_TAGS = {"p", "h1", "h2", "h3", "strong", "em", "a", "ul", "ol", "li", "code", "pre",
             "blockquote", "table", "thead", "tbody", "tr", "th", "td", "hr", "br"}


@pytest.mark.parametrize("payload", [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[a](javascript:alert(1))",
    "[a](JaVaScRiPt:alert(1))",
    "[a](  javascript:alert(1))",
    "[a](java\tscript:alert(1))",
    "[a](vbscript:msgbox(1))",
    "[a](data:text/html;base64,PHNjcmlwdD4=)",
    "[a](file:///etc/passwd)",
    "[a](//evil.example/x)",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<svg onload=alert(1)>",
    "![x](https://example.org/track.png)",
    "[a]: javascript:alert(1)\n\n[a]",
    "<javascript:alert(1)>",
])
def test_render_keeps_html_and_unsafe_links_out(payload):
    html = render(f"Intro\n\n{payload}\n\n**bold** [doi](https://doi.org/10.1)")
    parser = _Tags()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert tag in SAFE_TAGS, html
        assert set(attrs) <= {"href", "rel", "target"}, html
        if "href" in attrs:
            assert attrs["href"].startswith(("https://", "http://", "mailto:", "#")), html
    assert "<strong>bold</strong>" in html and 'href="https://doi.org/10.1"' in html


@pytest.fixture
def team():
    return users(ann="labeller", dan="admin")


def test_only_an_admin_writes_the_guideline_and_it_is_audited(team, registry):
    add_media(1)
    with database.session() as session:
        c = create_campaign(session, "c1", "house_brackmann", registry=registry, seed=1)
        with pytest.raises(PermissionDeniedError):
            set_guideline(session, c.id, "# mine", by=team["ann"])
        with pytest.raises(LabellingError, match="at most"):
            set_guideline(session, c.id, "x" * (MAX_GUIDELINE + 1), by=team["dan"])
        assert set_guideline(session, c.id, "# Grades\r\nlook at the forehead",
                             by=team["dan"]).startswith("<h1>Grades</h1>")
        set_guideline(session, c.id, "second", by=team["dan"])
        shown = campaign_guideline(session, team["ann"], c.id, LEVELS)
        assert shown.markdown == "second" and shown.html == "<p>second</p>\n"
        events = audit.events(session, campaign_id=c.id, action="guideline_set")
        assert [(e.actor, e.details["before"], e.details["after"]) for e in events] == [
            ("dan", None, "# Grades\nlook at the forehead"),
            ("dan", "# Grades\nlook at the forehead", "second")]


def test_examples_per_grade_come_from_the_campaigns_final_labels(team, registry, tmp_path):
    media = add_media(7)
    with database.session() as session:
        for index, medium in enumerate(media):
            row = session.get(Media, medium)
            row.path = str(tmp_path / f"Smith_John_{index}.jpg")
            exif = Image.Exif()
            exif[0x010E] = "Patient SMITH John"           # the image description
            Image.new("RGB", (8, 8), (index * 30, 0, 0)).save(row.path, exif=exif,
                                                             comment=b"MRN 12345")
            if index == 6:
                row.kind = MediaKind.VIDEO      # never an example
            session.add(row)
        session.commit()
        c = create_campaign(session, "c1", "house_brackmann", registry=registry, seed=1)
        finals = {media[0]: ("II", Method.ADJUDICATED), media[1]: ("II", Method.AGREED_CHECKED),
                  media[2]: ("II", Method.AGREED_CHECKED), media[3]: ("II", Method.ADJUDICATED),
                  media[4]: ("IV", Method.ADJUDICATED), media[6]: ("I", Method.AGREED_CHECKED)}
        for medium, (label, method) in finals.items():
            set_final(session, media_id=medium, scale="house_brackmann", label=label,
                      method=method, decided_by="dan", campaign_id=c.id)
        session.commit()
        found = examples(session, c.id, LEVELS)
    # agreed-and-checked first, then adjudicated; at most three; no video
    assert [e.media_id for e in found["II"]] == [media[1], media[2], media[0]]
    assert [e.media_id for e in found["IV"]] == [media[4]]
    assert found["I"] == [] and set(found) == set(LEVELS)

    from fpgrade_ui.labelling_guideline import NO_GUIDELINE, show

    title, html, gallery = show(team["ann"], c.id, str(tmp_path / "served"))
    assert html == NO_GUIDELINE and "4 example photos" in title
    # the copy any rater gets of a photo: a neutral name, no EXIF, no JPEG comment
    assert [Path(p).name for p, _ in gallery] == ["medium.jpg"] * 4
    assert len({p for p, _ in gallery}) == 4 and all("Smith" not in p for p, _ in gallery)
    assert gallery[0][1] == "II Slight dysfunction: At rest, looking straight ahead (MV0)"
    for shown, _ in gallery:
        assert b"SMITH" not in Path(shown).read_bytes() and b"MRN" not in Path(shown).read_bytes()
    with Image.open(gallery[0][0]) as copy:
        assert copy.getpixel((4, 4))[0] in range(20, 41)        # P1: red 30
        assert not copy.getexif() and "comment" not in copy.info
