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

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from fpgrade.labelling import agreement as agreement_core
from fpgrade.labelling import campaigns as campaigns_core
from fpgrade.labelling import users as users_core
from fpgrade.labelling import workflow
from fpgrade.labelling.export import write_csv
from fpgrade.labelling.final import final_labels
from fpgrade.labelling.model import Action, CannotGrade, LabellingError, PermissionDeniedError
from fpgrade.labelling.users import Account
from fpgrade.labelling.workflow import Suggestion
from fpgrade.registry import get_registry
from fpgrade.storage import database
from fpgrade_ui.markdown_text import md

CANNOT_GRADE_TEXT = {
    CannotGrade.BAD_PHOTO.value: "bad photo",
    CannotGrade.WRONG_MOVEMENT.value: "wrong movement",
    CannotGrade.NO_FACE.value: "no face",
    CannotGrade.OTHER.value: "other (note why)",
}


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
    with database.session() as session:
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
    with database.session() as session:
        _check(session, account, Action.LABEL)
        return [(f"{c.name} ({c.scale})", c.id) for c in campaigns_core.list_campaigns(session)
                if c.state == "open"]


def all_campaigns(account: Account | None) -> list[tuple[str, int]]:
    """Every campaign, for the progress, agreement and adjudication pages (``view``)."""
    with database.session() as session:
        _check(session, account, Action.VIEW)
        return [(f"{c.name} ({c.scale}, {c.state})", c.id)
                for c in campaigns_core.list_campaigns(session)]


ASPECTS = {"at_rest": "At rest", "motion": "Motion"}


def scale_levels(scale_id: str) -> list[tuple[str, str, str]]:
    """(code, name, description) of each level of a scale, from its plugin; a level's details
    by aspect (House-Brackmann: at rest, motion) follow its description, the gross description
    once."""
    scale = get_registry().scale(scale_id)
    out = []
    for level in scale.levels:
        parts = [level.description.strip()]
        for aspect, text in level.details.items():
            if text.strip() and text.strip() != level.description.strip():
                parts.append(f"{ASPECTS.get(aspect, aspect.replace('_', ' ').capitalize())}: "
                             f"{text.strip()}")
        out.append((level.code, level.name, " ".join(p for p in parts if p)))
    return out


def levels_markdown(scale_id: str) -> str:
    """The levels with their clinical descriptions, keys first (the labelling view's legend)."""
    scale = get_registry().scale(scale_id)
    lines = [f"**{scale.name}**: press a level's key (1-9), then Enter; or click the level and "
             "Submit. S skips.", "", "| key: level | what you see |", "|---|---|"]
    for number, (code, name, text) in enumerate(scale_levels(scale_id), start=1):
        key = f"**{number}**: " if number <= 9 else ""
        lines.append(f"| {key}**{code}** {name} | {text.replace('|', '/')} |")
    return "\n".join(lines)


@dataclass
class TaskView:
    """What the labelling view shows for one claimed assignment."""

    task: workflow.Task
    title: str
    image: object | None            # an RGB array for a photo
    video: str | None               # a copy in the server's temporary folder, for a video
    levels: list[tuple[str, str]]   # (radio text, code)
    levels_text: str
    suggestion: Suggestion | None   # what is shown (and reported as shown at submit)
    suggestion_text: str


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


def _media(path: Path, kind: str, workdir: str | None) -> tuple[object | None, str | None]:
    if kind == "video":  # a copy under a neutral name (the file name may say too much)
        if workdir:
            Path(workdir).mkdir(parents=True, exist_ok=True)
        folder = tempfile.mkdtemp(prefix="fpgrade-label-",
                                  dir=workdir or os.environ.get("GRADIO_TEMP_DIR"))
        copy = Path(folder) / f"medium{path.suffix.lower()}"
        shutil.copyfile(path, copy)
        return None, str(copy)
    import numpy as np
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as image:
            return np.asarray(ImageOps.exif_transpose(image).convert("RGB")), None
    except OSError as exc:
        raise LabellingError(f"the photo cannot be read ({type(exc).__name__}): mark it "
                             "'cannot grade', bad photo") from None


def _view(task: workflow.Task, workdir: str | None = None) -> TaskView:
    suggestion, text = _suggestion_for(task)
    problem = ""
    try:
        image, video = _media(task.path, task.kind, workdir)
    except (LabellingError, OSError) as exc:  # still shown, so that it can be marked
        image, video, problem = None, None, f" ({exc})"
    levels = [(f"{n}: {code} ({name})", code)
              for n, (code, name, _) in enumerate(scale_levels(task.scale), start=1)]
    title = (f"Medium #{task.media_id}, movement {md(task.movement or 'unknown')}, "
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
    return None if task is None else _view(task, workdir)


def my_queue(account: Account | None, campaign: int | str | None) -> str:
    """One line on the rater's queue: passes done by them, blind passes the team still has to
    do (counted, not decided: which of them this rater may take is the core's rule)."""
    from sqlalchemy import func
    from sqlmodel import select

    from fpgrade.storage.tables import Annotation, Assignment

    with database.session() as session:
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
        return int(shown)
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
    what = label or f"cannot grade ({cannot_grade})"
    prefix = "Already stored" if result.duplicate else "Stored"
    medium = view.task.media_id if current else f"of assignment {assignment_id}"
    return Submitted(f"{prefix}: medium #{medium} = {what}.", result.duplicate,
                     result.status.value)


def skip(account: Account | None, view: TaskView | None,
         shown: int | float | str | None = None) -> str:
    with database.session() as session:
        me = _check(session, account, Action.LABEL)
        if view is None or (shown not in (None, "") and int(shown) != view.task.assignment_id):
            raise LabellingError("no medium is open (or it was already answered)")
        workflow.skip_assignment(session, me, view.task.assignment_id)
    return f"Skipped medium #{view.task.media_id} (it goes to another rater)."


# -- adjudication ----------------------------------------------------------------------------

def adjudication_queue(account: Account | None, campaign: int | str | None = None) -> list[list]:
    """Rows (adjudication id, campaign id, medium id, state) of the undecided adjudications."""
    with database.session() as session:
        me = _check(session, account, Action.ADJUDICATE)
        items = workflow.adjudication_queue(session, me, campaign or None)
    return [[i.assignment_id, i.campaign_id, i.media_id, i.state] for i in items]


@dataclass
class CaseView:
    case: workflow.AdjudicationCase
    title: str
    image: object | None
    video: str | None
    levels: list[tuple[str, str]]
    details: str
    suggestion: Suggestion | None


def open_case(account: Account | None, assignment_id: int | str | None,
              workdir: str | None = None) -> CaseView:
    """Both passes, the second check with its ranges, and the model suggestion (always shown
    to adjudicators)."""
    with database.session() as session:
        me = _check(session, account, Action.ADJUDICATE)
        if assignment_id in (None, ""):
            raise LabellingError("choose an adjudication from the queue")
        case = workflow.adjudication_case(session, me, int(assignment_id))
    suggestion = case.suggestion or _predicted(case.scale, case.path, case.movement)
    image, video = _media(case.path, case.kind, workdir)
    lines = ["| pass | rater | label | cannot grade | note |", "|---|---|---|---|---|"]
    lines += [f"| {p.pass_number} | {md(p.annotator)} | {md(p.label)} | "
              f"{CANNOT_GRADE_TEXT.get(p.cannot_grade or '', '')} | {md(p.note)} |"
              for p in case.passes]
    if case.check is None:
        lines += ["", "Second check: not run (the blind passes disagreed or one could not grade)."]
    else:
        c = case.check
        lines += ["", f"Second check ({c.method}, {c.version}): **{c.outcome}** for label "
                  f"{md(c.label)}" + (f": {md(c.reason)}" if c.reason else "")]
        if c.indices:
            lines += ["", "| index | value | range of the label |", "|---|---|---|"]
            for name, value in c.indices.items():
                low_high = c.ranges.get(name)
                shown = (f"{low_high[0]:.3g} to {low_high[1]:.3g}"
                         if isinstance(low_high, (list, tuple)) and len(low_high) == 2 else "")
                lines.append(f"| {name} | {value:.3g} | {shown} |" if isinstance(value, float)
                             else f"| {name} | {value} | {shown} |")
    lines += ["", suggestion_markdown(suggestion) if suggestion
              else f"No trained model for {case.scale}: no suggestion."]
    levels = [(f"{code} ({name})", code) for code, name, _ in scale_levels(case.scale)]
    title = f"Adjudication #{case.assignment_id}: medium #{case.media_id}, movement " \
            f"{md(case.movement or 'unknown')} ({case.state})"
    return CaseView(case, title, image, video, levels, "\n".join(lines), suggestion)


def decide(account: Account | None, view: CaseView | None, label: str | None, reason: str, *,
           cannot_grade: str | None = None) -> str:
    """The adjudicator's decision; a second adjudicator is told who decided first
    (:class:`AlreadyDecidedError`)."""
    with database.session() as session:
        me = _check(session, account, Action.ADJUDICATE)
        if view is None:
            raise LabellingError("open an adjudication first")
        decision = workflow.decide(session, me, view.case.assignment_id, reason=reason or "",
                                   label=label or None,
                                   cannot_grade=None if label else cannot_grade or None,
                                   suggestion=view.suggestion)
    if decision.label is None:
        return f"Decided: medium #{decision.media_id} cannot be graded (excluded)."
    return f"Decided: medium #{decision.media_id} = {decision.label} (final label)."


# -- progress, agreement, export -------------------------------------------------------------

def progress(account: Account | None, campaign: int | str | None) -> str:
    with database.session() as session:
        me = _check(session, account, Action.VIEW)
        _chosen(campaign)
        p = campaigns_core.campaign_progress(session, campaign, by=me).as_dict()
    lines = [f"### {md(p['campaign'])}: {p['media']} media, {p['assignments_done']} of "
             f"{p['assignments_total']} assignments done", "", "| status | media |", "|---|---|"]
    lines += [f"| {status.replace('_', ' ')} | {count} |" for status, count in p["statuses"].items()]
    waiting = p["statuses"].get("awaiting_check", 0)
    if waiting:
        lines += ["", f"{waiting} agreed media await the second check (Admin: 'Run the second "
                  "check', or `fpgrade campaign check`); then they become final or go to "
                  "adjudication."]
    lines += ["", "| rater | passes done |", "|---|---|"]
    lines += [f"| {md(rater)} | {count} |" for rater, count in sorted(p["by_rater"].items())]
    return "\n".join(lines)


def _fmt(value: float | None, digits: int = 3, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:.{digits}f}{unit}"


@dataclass
class AgreementView:
    text: str
    heatmap: object | None       # RGB array: confusion between the first pair of raters
    report: agreement_core.AgreementReport = field(repr=False, default=None)


def agreement(account: Account | None, campaign: int | str | None) -> AgreementView:
    """Percent agreement per check, Cohen's and quadratic-weighted kappa between passes and
    between raters, Fleiss' kappa, and a confusion heat map between raters."""
    with database.session() as session:
        me = _check(session, account, Action.VIEW)
        _chosen(campaign)
        scale = get_registry().scale(campaigns_core.get_campaign(session, campaign).scale)
        r = agreement_core.campaign_agreement(session, campaign, scale, by=me)
    first, second = r.first_check, r.second_check
    lines = [f"### {md(r.campaign)} ({r.scale})", "",
             f"- First check (blind passes agree): {first['agreed']} of {first['media']} media "
             f"({_fmt(first['percent'], 1, '%')})",
             f"- Second check (asymmetry ranges / model): {second['agree']} agree, "
             f"{second['disagree']} disagree, {second['undecided']} undecided "
             f"({_fmt(second['percent'], 1, '%')} agree)",
             f"- Fleiss' kappa over the media with every blind pass: {_fmt(r.fleiss_kappa)} "
             f"({r.raters} raters)", "",
             "| between | n | % agree | Cohen's kappa | quadratic-weighted kappa |",
             "|---|---|---|---|---|"]
    for p in filter(None, [r.between_passes, *r.between_raters]):
        lines.append(f"| {md(p.first)} / {md(p.second)} | {p.n} | {_fmt(p.percent, 1, '%')} | "
                     f"{_fmt(p.kappa)} | {_fmt(p.weighted_kappa)} |")
    if r.model:
        lines += ["", "| model version | suggestions shown | accepted |", "|---|---|---|"]
        lines += [f"| `{v}` | {e['shown']} | {e['accepted']} ({e['percent_accepted']:.0f}%) |"
                  for v, e in r.model.items()]
    pairs = r.between_raters or ([r.between_passes] if r.between_passes else [])
    heatmap = confusion_heatmap(pairs[0], r.labels) if pairs else None
    if heatmap is None:
        lines += ["", "No medium labelled by two raters yet: no heat map."]
    return AgreementView("\n".join(lines), heatmap, r)


def confusion_heatmap(pair: agreement_core.PairAgreement, labels) -> object:
    """The confusion matrix of two raters as an RGB image (rows: first rater)."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    matrix = np.asarray(pair.confusion)
    fig = Figure(figsize=(1.2 + 0.55 * len(labels), 1.0 + 0.5 * len(labels)), dpi=110)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel(pair.second)
    ax.set_ylabel(pair.first)
    ax.set_title(f"{pair.first} vs {pair.second} (n={pair.n})")
    top = matrix.max() or 1
    for (i, j), value in np.ndenumerate(matrix):
        if value:
            ax.text(j, i, str(value), ha="center", va="center",
                    color="white" if value > top / 2 else "black")
    fig.tight_layout()
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[:, :, :3].copy()


def export_csv(account: Account | None, campaign: int | str | None,
               folder: str | None = None) -> tuple[str, int]:
    """The campaign's final labels with provenance as a CSV file (path, rows)."""
    with database.session() as session:
        _check(session, account, Action.VIEW)
        _chosen(campaign)
        found = campaigns_core.get_campaign(session, campaign)
        records = final_labels(session, campaign_id=found.id)
        name, found_id = found.name, found.id
    folder = folder or tempfile.mkdtemp(prefix="fpgrade-label-",
                                        dir=os.environ.get("GRADIO_TEMP_DIR"))
    path = Path(folder) / f"final_labels_{found_id}_{safe_stem(name)}.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        count = write_csv(records, handle)
    return str(path), count


# -- admin -----------------------------------------------------------------------------------

def users_table(account: Account | None) -> list[list]:
    with database.session() as session:
        _check(session, account, Action.ADMIN)
        return [[a.name, a.role, "disabled" if a.disabled else "active"]
                for a in users_core.list_users(session)]


def add_user(account: Account | None, name: str, password: str, role: str) -> str:
    with database.session() as session:
        me = _check(session, account, Action.ADMIN)
        added = users_core.add_user(session, (name or "").strip(), password or "", role, by=me)
    return f"User {added.name} added ({added.role})."


def set_disabled(account: Account | None, name: str, disabled: bool) -> str:
    with database.session() as session:
        me = _check(session, account, Action.ADMIN)
        changed = users_core.set_disabled(session, (name or "").strip(), disabled, by=me)
    return f"User {changed.name} {'disabled' if changed.disabled else 'enabled'}."


def set_role(account: Account | None, name: str, role: str) -> str:
    with database.session() as session:
        me = _check(session, account, Action.ADMIN)
        changed = users_core.set_role(session, (name or "").strip(), role, by=me)
    return f"User {changed.name} is now {changed.role} (their sessions ended)."


def reset_password(account: Account | None, name: str, password: str) -> str:
    with database.session() as session:
        me = _check(session, account, Action.ADMIN)
        changed = users_core.set_password(session, (name or "").strip(), password or "", by=me)
    return f"Password of {changed.name} reset (their sessions ended)."


def create_campaign(account: Account | None, name: str, scale: str, movements: str = "",
                    passes: int = 2, suggestions_in_blind: bool = False,
                    include_synthetic: bool = False) -> str:
    chosen = [m.strip() for m in (movements or "").replace(";", ",").split(",") if m.strip()]
    with database.session() as session:
        me = _check(session, account, Action.ADMIN)
        c = campaigns_core.create_campaign(
            session, (name or "").strip(), scale, registry=get_registry(), movements=chosen,
            blind_passes=int(passes), suggestions_in_blind=bool(suggestions_in_blind),
            include_synthetic=bool(include_synthetic), by=me)
    return f"Campaign {c.name} (#{c.id}) created on {c.scale}, {c.blind_passes} blind passes."


def close_campaign(account: Account | None, campaign: int | str | None) -> str:
    with database.session() as session:
        me = _check(session, account, Action.ADMIN)
        c = campaigns_core.close_campaign(session, campaign, by=me)
    return f"Campaign {c.name} closed."


def run_second_check(account: Account | None, campaign: int | str | None,
                     partial: bool = False) -> str:
    from fpgrade.labelling.second_check import run_second_check as run

    with database.session() as session:
        me = _check(session, account, Action.ADMIN)
        counts = run(session, campaign, by=me, partial=partial)
    return (f"Second check: {counts.get('agree', 0)} agree, {counts.get('disagree', 0)} "
            f"disagree, {counts.get('undecided', 0)} undecided (the last two go to adjudication).")


def import_manifest(account: Account | None, manifest: str) -> str:
    """Import a manifest CSV that lies on the server (``fpgrade import``'s format)."""
    from fpgrade.importer import import_manifest as run

    path = Path((manifest or "").strip())
    with database.session() as session:
        _check(session, account, Action.ADMIN)
        if not path.is_file():
            raise LabellingError(f"{path}: no such manifest on the server")
        report = run(path, session=session, registry=get_registry())
    errors = "".join(f"\n- {md(e)}" for e in report.errors[:20])
    return (f"Imported {md(path.name)}: {report.rows} rows, {report.media_added} media and "
            f"{report.annotations_added} labels added, {report.unchanged} unchanged, "
            f"{len(report.errors)} refused.{errors}")


def scale_choices() -> list[tuple[str, str]]:
    return [(f"{s.name} ({s.id})", s.id) for s in get_registry().scales.values()]

