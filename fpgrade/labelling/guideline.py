"""A campaign's guideline for its raters (issue 20): Markdown written by the admin, rendered
safely, with example photos per grade chosen from the campaign's own final labels.

Rendering: `markdown-it-py <https://markdown-it-py.readthedocs.io>`_ (CommonMark, with tables)
with raw HTML off, so a tag the admin types is shown as text, never run; links are kept only
for ``http``, ``https`` and ``mailto`` (markdown-it's own check already drops ``javascript:``,
``vbscript:``, ``file:`` and most ``data:``; this keeps a list of what is allowed rather than
of what is not); images are not rendered at all (an outside image would tell another server
who reads the guideline; the example photos come from the campaign instead).

Examples: per level of the scale, up to :data:`EXAMPLES_PER_GRADE` photos (not videos) whose
final label in this campaign is that level, the agreed-and-checked ones first (two raters and
the second check agreed: the clearest cases), then the adjudicated ones, each in media order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, select

from fpgrade.labelling import audit
from fpgrade.labelling._tx import transaction
from fpgrade.labelling.campaigns import get_campaign
from fpgrade.labelling.model import Action, LabellingError, Method
from fpgrade.labelling.users import Account, actor_name, require, require_active
from fpgrade.media import MediaKind
from fpgrade.storage.tables import FinalLabel, Media

MAX_GUIDELINE = 20_000
EXAMPLES_PER_GRADE = 3
SAFE_SCHEMES = ("http://", "https://", "mailto:")


@dataclass(frozen=True)
class Example:
    label: str
    media_id: int
    path: Path
    movement: str | None
    method: str


@dataclass
class Guideline:
    campaign: str
    scale: str
    markdown: str                           # as the admin wrote it
    html: str                               # rendered safely (:func:`render`)
    examples: dict[str, list[Example]] = field(default_factory=dict)   # level -> photos


def _renderer():
    from markdown_it import MarkdownIt

    renderer = MarkdownIt("commonmark", {"html": False}).enable("table").disable("image")
    allowed = renderer.validateLink

    def validate(url: str) -> bool:
        text = url.strip().lower()
        return allowed(url) and (text.startswith(SAFE_SCHEMES) or text.startswith("#"))

    renderer.validateLink = validate
    return renderer


def render(markdown: str | None) -> str:
    """The guideline as HTML: Markdown formatting, no raw HTML, no image, links only to
    ``http(s)``, ``mailto`` or an anchor (see the module docstring)."""
    html = _renderer().render(markdown or "")
    return html.replace("<a href=", '<a rel="noopener noreferrer" target="_blank" href=')


def set_guideline(session: Session, campaign: int | str, markdown: str | None, *,
                  by: Account | None = None) -> str:
    """Store the campaign's guideline (admin); returns it rendered. Audited (``guideline_set``
    with the text before and after).

    :raises LabellingError: longer than :data:`MAX_GUIDELINE` characters.
    """
    text = (markdown or "").replace("\r\n", "\n").strip()
    if len(text) > MAX_GUIDELINE:
        raise LabellingError(f"the guideline is {len(text)} characters long; at most "
                             f"{MAX_GUIDELINE}")

    def work() -> str:
        if by is not None:
            require(session, by, Action.ADMIN)
        found = get_campaign(session, campaign)
        before = found.guideline
        found.guideline = text or None
        session.add(found)
        audit.record(session, actor_name(by), "guideline_set", campaign_id=found.id,
                     before=before, after=found.guideline)
        return render(found.guideline)

    return transaction(session, work)


def examples(session: Session, campaign_id: int, levels: list[str],
             per_grade: int = EXAMPLES_PER_GRADE) -> dict[str, list[Example]]:
    """Example photos per level from the campaign's final labels (see the module docstring)."""
    rows = session.exec(select(FinalLabel, Media).join(Media, FinalLabel.media_id == Media.id)
                        .where(FinalLabel.campaign_id == campaign_id)
                        .order_by(Media.id)).all()
    ranked = sorted(rows, key=lambda r: (r[0].method != Method.AGREED_CHECKED.value, r[1].id))
    out: dict[str, list[Example]] = {level: [] for level in levels}
    for final, media in ranked:
        chosen = out.get(final.label)
        if chosen is None or len(chosen) >= per_grade or \
                MediaKind(media.kind) is not MediaKind.IMAGE:
            continue
        chosen.append(Example(final.label, media.id, Path(media.path), media.movement,
                              final.method))
    return out


def campaign_guideline(session: Session, user: Account, campaign: int | str,
                       levels: list[str]) -> Guideline:
    """What a rater (or anyone of the team) reads: the guideline rendered, and the examples
    per level (``levels``: the scale's codes, in order)."""
    require_active(session, user)
    found = get_campaign(session, campaign)
    return Guideline(found.name, found.scale, found.guideline or "", render(found.guideline),
                     examples(session, found.id, levels))
