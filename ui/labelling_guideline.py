"""The guideline of a campaign in the labelling pages (issue 20): what a rater opens from the
labelling view (the G key or the button), and the admin's editor. Plain functions, no gradio.

The guideline's HTML comes from :func:`fpgrade.labelling.guideline.render` (Markdown with raw
HTML off and only ``http(s)``/``mailto`` links). The example photos are sent as the copy a
rater gets of any photo (:func:`~fpgrade_ui.labelling_media._shown_photo`: upright, without
EXIF, XMP or JPEG comments, named ``medium.jpg``: a stored file name or a camera's fields may say
who the patient is; before, the file was copied byte for byte under a neutral name, its EXIF
included) and returned as the gallery's value, so the page gets them through a Gradio output
and the file guard (:mod:`fpgrade_ui.web_files`) serves them to this user only.
"""

from __future__ import annotations

from fpgrade.labelling import guideline as guideline_core
from fpgrade.labelling.campaigns import get_campaign
from fpgrade.labelling.model import Action
from fpgrade.labelling.users import Account
from fpgrade.storage import database
from fpgrade_ui.labelling_handlers import _check, _chosen, _me
from fpgrade_ui.labelling_media import _shown_photo
from fpgrade_ui.labelling_words import movement_words, scale_levels
from fpgrade_ui.markdown_text import md

NO_GUIDELINE = ("<p><em>The admin has not written a guideline for this campaign yet: the "
                "levels' descriptions beside the photo are the reference.</em></p>")


def show(account: Account | None, campaign: int | str | None,
         workdir: str | None = None) -> tuple[str, str, list[tuple[str, str]]]:
    """(title, the guideline as safe HTML, the example photos as ``(file, caption)``) of a
    campaign, for any active account of the team."""
    _chosen(campaign)
    with database.session() as session:
        found = get_campaign(session, campaign)
        levels = [code for code, _, _ in scale_levels(found.scale)]
        shown = guideline_core.campaign_guideline(session, _me(account), found.id, levels)
    names = {code: name for code, name, _ in scale_levels(shown.scale)}
    gallery = []
    for level, found_examples in shown.examples.items():
        for example in found_examples:
            try:     # the copy a rater is sent of any photo: upright, no metadata, neutral name
                copy = _shown_photo(example.path, workdir)
            except OSError:       # gone or unreadable: not an example any more
                continue
            gallery.append((copy, f"{level} {names.get(level, '')}: "
                            f"{movement_words(example.movement, markdown=False)}"))
    count = len(gallery)
    title = (f"### Guideline of {md(shown.campaign)}: {count} example photo"
             f"{'' if count == 1 else 's'} from its final labels (G: back to the photo)")
    return title, shown.html if shown.markdown else NO_GUIDELINE, gallery


def _safe(level: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in level)[:16] or "level"


def stored(account: Account | None, campaign: int | str | None) -> str:
    """The guideline's Markdown as stored, for the admin's editor ("" where none)."""
    if campaign in (None, ""):
        return ""
    with database.session() as session:
        _check(session, account, Action.ADMIN)
        return get_campaign(session, campaign).guideline or ""


def save(account: Account | None, campaign: int | str | None,
         markdown: str | None) -> tuple[str, str]:
    """Store the guideline (admin): (the preview as safe HTML, a message)."""
    with database.session() as session:
        me = _check(session, account, Action.ADMIN)
        _chosen(campaign)
        html = guideline_core.set_guideline(session, campaign, markdown, by=me)
        name = get_campaign(session, campaign).name
    return html, f"Guideline of {md(name)} saved ({len((markdown or '').strip())} characters)."

