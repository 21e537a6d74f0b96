"""The admin page's handlers (split from :mod:`.labelling_handlers`): users, campaigns, the
second check and manifest import. Plain functions, no gradio; each checks the ``admin``
permission on the server first (the campaign and scale lists need less)."""

from __future__ import annotations

from pathlib import Path

from fpgrade.labelling import campaigns as campaigns_core
from fpgrade.labelling import users as users_core
from fpgrade.labelling.model import Action, LabellingError
from fpgrade.labelling.users import Account
from fpgrade.registry import get_registry
from fpgrade.storage import database
from fpgrade_ui.labelling_handlers import _check
from fpgrade_ui.markdown_text import md


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
                    videos_need_no_play: bool = False, per_visit: bool = False,
                    include_synthetic: bool = False) -> str:
    chosen = [m.strip() for m in (movements or "").replace(";", ",").split(",") if m.strip()]
    with database.session() as session:
        me = _check(session, account, Action.ADMIN)
        c = campaigns_core.create_campaign(
            session, (name or "").strip(), scale, registry=get_registry(), movements=chosen,
            blind_passes=int(passes), suggestions_in_blind=bool(suggestions_in_blind),
            include_synthetic=bool(include_synthetic),
            videos_must_play=not videos_need_no_play, unit="visit" if per_visit else "medium",
            by=me)
    each = "one grade per subject's visit" if c.unit == "visit" else "one grade per photo or video"
    return (f"Campaign {c.name} (#{c.id}) created on {c.scale}, {c.blind_passes} blind passes, "
            f"{each}.")


def close_campaign(account: Account | None, campaign: int | str | None) -> str:
    with database.session() as session:
        me = _check(session, account, Action.ADMIN)
        c = campaigns_core.close_campaign(session, campaign, by=me)
    return f"Campaign {c.name} closed: it has left the raters' lists."


def reopen_campaign(account: Account | None, campaign: int | str | None) -> str:
    with database.session() as session:
        me = _check(session, account, Action.ADMIN)
        c = campaigns_core.reopen_campaign(session, campaign, by=me)
    return f"Campaign {c.name} is open again: it is back on the raters' lists."


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

