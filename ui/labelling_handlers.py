"""The labelling pages' handlers: plain functions (no gradio), tested without a browser.

Every handler takes the logged-in :class:`~fpgrade.labelling.users.Account` that the page keeps
in its per-session ``gr.State`` (``None`` before login and after logout) and calls the core's
role check first, on the server: a labeller calling the adjudication or admin handler through
the HTTP API is refused exactly as in the page. A refusal is a typed
:class:`~fpgrade.labelling.model.LabellingError`; the page shows its message. The core re-reads
the account on every call, so a disabled account is refused at its next action.

Nothing shows a medium's path or any name but logins and the group's pseudonymous subject codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fpgrade.labelling import campaigns as campaigns_core
from fpgrade.labelling import users as users_core
from fpgrade.labelling import workflow
from fpgrade.labelling.model import Action, LabellingError, PermissionDeniedError
from fpgrade.labelling.users import Account
from fpgrade.labelling.workflow import Suggestion
from fpgrade.registry import get_registry
from fpgrade.storage import database
from fpgrade_ui.labelling_words import (  # noqa: F401 - re-exported for the page
    CANNOT_GRADE_TEXT, cannot_grade_words, levels_markdown, movement_words, scale_levels,
)
from fpgrade_ui.labelling_media import (  # noqa: F401 - re-exported for the pages
    FACE_MARGIN, SHOWN_LONG_SIDE, SHOWN_QUALITY, _media, _shown_photo, crop_face, make_ahead,
    shown_copy)
from fpgrade_ui.markdown_text import md

#: open assignments whose photos are made ahead each time a rater opens one (:func:`next_task`):
#: enough for the raters of a team working at once
AHEAD = 8


class NotLoggedInError(PermissionDeniedError):
    """A handler called without a logged-in account (never logged in, or logged out)."""


def _me(account: Account | None) -> Account:
    if account is None:
        raise NotLoggedInError("log in first (no session, or it ended at logout)")
    return account


def account_of(name: str | None) -> Account:
    """The account of a request's logged-in user name (from the session cookie), as stored now;
    :class:`NotLoggedInError` when there is none or it was disabled meanwhile."""
    if not name:
        raise NotLoggedInError("log in first (no session, or it ended)")
    with database.read_session() as session:
        try:
            account = users_core.get_user(session, name)
        except LabellingError:
            raise NotLoggedInError("log in first (no session, or it ended)") from None
    if account.disabled:
        raise NotLoggedInError("this account is disabled")
    return account


def safe_stem(name: str) -> str:
    """A file-name part made of ASCII letters, digits, ``_`` and ``-`` only (at most 60)."""
    import re
    import unicodedata

    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9_-]+", "_", ascii_name).strip("_")[:60] or "campaign"


def _check(session, account: Account | None, action: Action) -> Account:
    """The role check every handler makes first (the core makes it again where it acts)."""
    me = _me(account)
    users_core.require(session, me, action)
    return me


def _chosen(campaign: int | str | None) -> None:
    if campaign in (None, ""):
        raise LabellingError("choose a campaign")


# -- login ----------------------------------------------------------------------------------

def login(name: str, password: str) -> Account:
    """The account, or :class:`AuthenticationError` (one message for every failure)."""
    with database.session() as session:
        return users_core.authenticate(session, (name or "").strip(), password or "")


def logout(account: Account | None) -> None:
    """End the session (the page drops its state); logged in the audit log."""
    if account is None:
        return
    with database.session() as session:
        users_core.logout(session, account)


def can(account: Account | None, action: Action) -> bool:
    """Whether to show a tab (cosmetic only: every handler checks again on the server)."""
    return account is not None and users_core.can(account, action)


# -- campaigns and the labelling view ----------------------------------------------------------

def open_campaigns(account: Account | None) -> list[tuple[str, int]]:
    """(``name (scale)``, id) of the open campaigns, for a labeller's campaign choice."""
    with database.read_session() as session:
        _check(session, account, Action.LABEL)
        return [(f"{c.name} ({c.scale})", c.id) for c in campaigns_core.list_campaigns(session)
                if c.state == "open"]


def all_campaigns(account: Account | None) -> list[tuple[str, int]]:
    """Every campaign, for the progress, agreement and adjudication pages (``view``)."""
    with database.read_session() as session:
        _check(session, account, Action.VIEW)
        return [(f"{c.name} ({c.scale}, {c.state})", c.id)
                for c in campaigns_core.list_campaigns(session)]


@dataclass
class TaskView:
    """What the labelling view shows for one claimed assignment."""

    task: workflow.Task
    title: str
    image: str | None               # the shown copy of a photo (:func:`_shown_photo`)
    video: str | None               # a copy in the server's temporary folder, for a video
    levels: list[tuple[str, str]]   # (radio text, code)
    levels_text: str
    suggestion: Suggestion | None   # what is shown (and reported as shown at submit)
    suggestion_text: str
    face: object | None = None      # the face crop, once asked for (computed once per view)
    face_note: str = ""


def _suggestion_for(task: workflow.Task) -> tuple[Suggestion | None, str]:
    """The model suggestion the page may show: the stored prediction, else the current trained
    version's grade (torch imported only then); no version, no suggestion, said plainly."""
    if not task.show_suggestion:
        return None, "Model suggestion hidden in this blind pass (the campaign's setting)."
    suggestion = task.suggestion or _predicted(task.scale, task.path, task.movement)
    if suggestion is None:
        return None, f"No trained model for {task.scale}: no suggestion."
    return suggestion, suggestion_markdown(suggestion)


def suggestion_markdown(s: Suggestion) -> str:
    p = "" if s.probability is None else f" (probability {s.probability:.2f})"
    return f"Model suggestion: **{s.label}**{p}, model version `{s.model_version}`."


def _predicted(scale: str, path: Path, movement: str | None) -> Suggestion | None:
    from fpgrade.clinic.models import current_versions, grade

    info = current_versions([scale]).get(scale)
    if info is None or not info.model_id:
        return None
    result = grade(get_registry(), info, path, movement)
    if "label" not in result:
        return None
    return Suggestion(info.version, result["label"],
                      (result.get("probabilities") or {}).get(result["label"]))


def level_choices(scale: str) -> list[tuple[str, str]]:
    """(``1: II (Mild dysfunction)``, code) of a scale's levels: the level radio's choices."""
    return [(f"{n}: {code} ({name})", code)
            for n, (code, name, _) in enumerate(scale_levels(scale), start=1)]


def my_labels_and_levels(account: Account | None, campaign: int | str | None
                         ) -> tuple[list[tuple[str, int]], list[tuple[str, str]]]:
    """:func:`my_labels`, and the campaign scale's levels to change one to."""
    labels = my_labels(account, campaign)
    with database.read_session() as session:
        scale = campaigns_core.get_campaign(session, campaign).scale
    return labels, level_choices(scale)


def _view(task: workflow.Task, workdir: str | None = None) -> TaskView:
    suggestion, text = _suggestion_for(task)
    levels = level_choices(task.scale)
    if task.unit_media:   # a per-subject campaign: the visit's movements side by side
        from fpgrade_ui.labelling_visit import side_by_side

        picture, line = side_by_side(task.unit_media)
        image = shown_copy(picture, workdir)
        # one line (the page clips a longer one; the picture names each movement too)
        title = (f"Visit of medium #{task.media_id}, {task.pass_kind} pass {task.pass_number}, "
                 f"one grade for its {len(task.unit_media)} movements. {line}")
        return TaskView(task, title, image, None, levels, levels_markdown(task.scale),
                        suggestion, text)
    problem = ""
    try:
        image, video = _media(task.path, task.kind, workdir)
    except (LabellingError, OSError) as exc:  # still shown, so that it can be marked
        image, video, problem = None, None, f" ({exc})"
    title = (f"Medium #{task.media_id}: {movement_words(task.movement)}, "
             f"{task.pass_kind} pass {task.pass_number}{problem}")
    return TaskView(task, title, image, video, levels, levels_markdown(task.scale), suggestion,
                    text)


def next_task(account: Account | None, campaign: int | str | None,
              workdir: str | None = None) -> TaskView | None:
    """Claim the user's next blind assignment (or the one they hold); ``None``: none left."""
    with database.session() as session:
        me = _check(session, account, Action.LABEL)
        _chosen(campaign)
        task = workflow.next_assignment(session, me, campaign)
        if task is not None:   # the photos the raters open next, made while this one is looked at
            make_ahead(workflow.upcoming_photos(session, task.campaign_id, AHEAD), workdir)
    return None if task is None else _view(task, workdir)


def make_ahead_of_open_campaigns() -> None:
    """At the server's start: the first photos of every open campaign made ahead (in the
    background), so that the team's first photos of the day come as fast as the rest."""
    with database.read_session() as session:
        paths = [path for c in campaigns_core.list_campaigns(session) if c.state == "open"
                 for path in workflow.upcoming_photos(session, c.id, AHEAD)]
    make_ahead(paths)


def my_queue(account: Account | None, campaign: int | str | None) -> str:
    """One line on the rater's queue: passes done by them, blind passes the team still has to
    do (counted, not decided: which of them this rater may take is the core's rule)."""
    from sqlalchemy import func
    from sqlmodel import select

    from fpgrade.storage.tables import Annotation, Assignment

    with database.read_session() as session:
        me = _check(session, account, Action.LABEL)
        _chosen(campaign)
        found = campaigns_core.get_campaign(session, campaign)
        mine = session.exec(select(func.count()).select_from(Annotation).where(
            Annotation.campaign_id == found.id, Annotation.user_id == me.id,
            Annotation.pass_kind == "blind")).one()
        left = session.exec(select(func.count()).select_from(Assignment).where(
            Assignment.campaign_id == found.id, Assignment.pass_kind == "blind",
            Assignment.state != "done")).one()
    return (f"Your queue in {md(found.name)}: {mine} passes done by you; {left} blind passes left "
            "for the team (a medium's passes go to different raters).")


@dataclass(frozen=True)
class Submitted:
    message: str
    duplicate: bool
    status: str


def _shown_id(view: TaskView | None, shown: int | float | str | None) -> int:
    """The assignment the rater answered: the one the page showed (``shown``, sent with the
    answer) wins over the session's open one, which a first submit has already replaced by the
    next medium when a second submit of the same answer arrives."""
    if shown not in (None, ""):
        try:
            number = int(shown)
        except (TypeError, ValueError, OverflowError):   # "nan", inf, text: nothing shown
            number = 0
        if not 0 < number < 2**31 or number != shown and str(number) != str(shown).strip():
            raise LabellingError("that is not a medium shown to you: press 'Next medium'")
        return number
    if view is None:
        raise LabellingError("no medium is open: press 'Next medium'")
    return view.task.assignment_id


def submit(account: Account | None, view: TaskView | None, label: str | None = None, *,
           cannot_grade: str | None = None, note: str | None = None,
           shown: int | float | str | None = None) -> Submitted:
    """Store the shown task's pass (a level, or "cannot grade" with a reason); the suggestion
    shown, if any, is stored with its model version and whether the label accepted it.

    A double submit (the same ``shown`` assignment again) stores nothing and says so."""
    with database.session() as session:
        me = _check(session, account, Action.LABEL)
        if not label and not cannot_grade:
            raise LabellingError("choose a level (keys 1-9) or 'cannot grade' with a reason")
        assignment_id = _shown_id(view, shown)
        current = view is not None and view.task.assignment_id == assignment_id
        result = workflow.submit_label(
            session, me, assignment_id, label=label or None,
            cannot_grade=None if label else cannot_grade, note=(note or "").strip() or None,
            suggestion=view.suggestion if current else None)
    # what is really stored: for a duplicate, the first submit's answer, not this one's
    what = result.label or f"cannot grade ({cannot_grade_words(result.cannot_grade)})"
    medium = view.task.media_id if current else f"of assignment {assignment_id}"
    unit = "visit of " if current and view.task.unit_media else ""
    if result.duplicate:
        return Submitted(f"Already stored: {unit}medium #{medium} = {what} (your first submit).",
                         True, result.status.value)
    return Submitted(f"Stored: {unit}medium #{medium} = {what}.", False, result.status.value)


def video_played(account: Account | None, view: TaskView | None) -> str:
    """The player reached the video's end: the server keeps it for this assignment
    (:func:`fpgrade.labelling.playback.report_played`), so that its label is accepted."""
    from fpgrade.labelling.playback import report_played

    with database.session() as session:
        me = _check(session, account, Action.LABEL)
        if view is None or view.video is None:
            raise LabellingError("no video is open")
        report_played(session, me, view.task.assignment_id)
    return f"Video of medium #{view.task.media_id} played to its end: you may grade it now."


def skip(account: Account | None, view: TaskView | None,
         shown: int | float | str | None = None) -> str:
    with database.session() as session:
        me = _check(session, account, Action.LABEL)
        if view is None or (shown not in (None, "") and _shown_id(view, shown)
                            != view.task.assignment_id):
            raise LabellingError("no medium is open (or it was already answered)")
        workflow.skip_assignment(session, me, view.task.assignment_id)
    return f"Skipped medium #{view.task.media_id} (it goes to another rater)."


# -- the face crop ---------------------------------------------------------------------------

def face_crop(account: Account | None, view) -> tuple[object | None, str]:
    """The open photo (of a :class:`TaskView`, or an adjudication's case view) cropped to the face (fpgrade's face detection:
    :meth:`fpgrade.face.detect.FaceAnalyser.detect`, the largest face, widened by
    :data:`~fpgrade_ui.labelling_media.FACE_MARGIN`), and a note; where no face is found, the whole photo with a note
    saying so. Computed once per open photo (kept in the view); MediaPipe is called under a
    lock (its graphs are not shared between threads)."""
    with database.session() as session:
        _check(session, account, Action.LABEL if isinstance(view, TaskView) or view is None
               else Action.ADJUDICATE)
    if view is None or view.image is None:
        raise LabellingError("no photo is open (a video has no face crop)")
    unit = getattr(getattr(view, "task", None) or getattr(view, "case", None), "unit_media", ())
    if view.face is None and unit:   # a visit: each of its photos cropped to its face
        from fpgrade_ui.labelling_visit import side_by_side

        view.face, view.face_note = side_by_side(unit, crop=crop_face)
    elif view.face is None:
        import numpy as np
        from PIL import Image

        with Image.open(view.image) as shown:
            rgb = np.ascontiguousarray(shown.convert("RGB"))
        face = crop_face(rgb)
        if face is None:
            view.face, view.face_note = rgb, "No face found: the whole photo is shown."
        else:
            view.face = face
            view.face_note = (f"Face crop ({face.shape[1]} x {face.shape[0]} px of "
                              f"{rgb.shape[1]} x {rgb.shape[0]}); F: the whole photo.")
    return view.face, view.face_note


# -- changing one's own label before the check -----------------------------------------------

def my_labels(account: Account | None, campaign: int | str | None) -> list[tuple[str, int]]:
    """(``medium #16 (movement): III``, assignment id) of the rater's labels in a campaign that
    may still change (the medium's check has not run), newest first."""
    from sqlmodel import select

    from fpgrade.labelling.revise import my_changeable
    from fpgrade.storage.tables import Media

    with database.read_session() as session:
        me = _check(session, account, Action.LABEL)
        _chosen(campaign)
        found = campaigns_core.get_campaign(session, campaign)
        labels = my_changeable(session, me, found.id)
        movement = dict(session.exec(select(Media.id, Media.movement).where(
            Media.id.in_({a.media_id for a in labels}))).all()) if labels else {}
    out = []
    for a in labels:
        said = a.label or f"cannot grade ({cannot_grade_words(a.cannot_grade)})"
        out.append((f"medium #{a.media_id} "
                    f"({movement_words(movement[a.media_id], markdown=False)}): {said}",
                    a.assignment_id))
    return out


def change(account: Account | None, assignment_id: int | str | None, label: str | None,
           note: str | None = None, *, cannot_grade: str | None = None) -> str:
    """Change the rater's own label (or "cannot grade") of one of :func:`my_labels`."""
    from fpgrade.labelling.revise import change_label
    from fpgrade.storage.tables import Assignment

    with database.session() as session:
        me = _check(session, account, Action.LABEL)
        if assignment_id in (None, ""):
            raise LabellingError("choose one of your labels to change")
        if not label and not cannot_grade:
            raise LabellingError("choose the new level (or 'cannot grade' with a reason)")
        result = change_label(session, me, int(assignment_id), label=label or None,
                              cannot_grade=None if label else cannot_grade,
                              note=(note or "").strip() or None)
        media_id = session.get(Assignment, int(assignment_id)).media_id
    what = result.label or f"cannot grade ({cannot_grade_words(result.cannot_grade)})"
    return f"Changed: medium #{media_id} = {what} (logged)."
