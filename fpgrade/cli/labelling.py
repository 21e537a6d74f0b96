"""``fpgrade user``, ``fpgrade campaign``, ``fpgrade labels``: the labelling tool from scripts.

The same core functions as the pages (:mod:`fpgrade.labelling`); changes made here are logged
with the actor ``cli`` (whoever can run the command can open the database). Passwords are read
from a hidden prompt or ``--password-stdin``, never from an argument. SQLAlchemy, sqlmodel and
argon2 are imported inside the commands (``fpgrade --help`` stays light).
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from fpgrade.cli import campaign_life
from fpgrade.cli.console import console, err_console, print_json
from fpgrade.errors import FpgradeError
from fpgrade.registry import get_registry

user_app = typer.Typer(help="Users of the labelling tool.", no_args_is_help=True)
campaign_app = typer.Typer(help="Labelling campaigns (triple check).", no_args_is_help=True)
labels_app = typer.Typer(help="Final labels.", no_args_is_help=True)
ROLES = "labeller, adjudicator, clinician or admin"


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise FpgradeError("no password given")
    return password


@user_app.command("add")
def user_add(
    name: str = typer.Argument(..., help="Login name (never a patient's name)."),
    role: str = typer.Option(..., "--role", help=f"One of {ROLES}."),
    password_stdin: bool = typer.Option(False, "--password-stdin",
                                        help="Read the password from the first line of stdin."),
) -> None:
    """Create a user; the password is asked for (hidden) or read from stdin."""
    from fpgrade.labelling.users import add_user, role_of
    from fpgrade.storage import database

    role_of(role)  # a bad role is refused before the password is asked for
    password = _password(password_stdin)
    with database.session() as session:
        account = add_user(session, name, password, role)
    console.print(f"user {account.name} added ({account.role})")


@user_app.command("list")
def user_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List users, their roles and whether they are disabled."""
    from fpgrade.labelling.users import list_users
    from fpgrade.storage import database

    with database.session() as session:
        accounts = list_users(session)
    if as_json:
        print_json([{"name": a.name, "role": a.role, "disabled": a.disabled} for a in accounts])
        return
    for a in accounts:
        console.print("\t".join([a.name, a.role] + (["disabled"] if a.disabled else [])))


@user_app.command("disable")
def user_disable(
    name: str = typer.Argument(...),
    enable: bool = typer.Option(False, "--enable", help="Enable the account again."),
) -> None:
    """Disable a user (their sessions end at once, for good), or enable them again (they log in
    again: no session of before comes back)."""
    from fpgrade.labelling.users import set_disabled
    from fpgrade.storage import database

    with database.session() as session:
        account = set_disabled(session, name, not enable)
    console.print(f"user {account.name} {'disabled' if account.disabled else 'enabled'}")


@user_app.command("role")
def user_role(
    name: str = typer.Argument(...),
    role: str = typer.Argument(..., help=f"The new role: {ROLES}."),
) -> None:
    """Give a user another role; their open sessions end (the next login has the new role)."""
    from fpgrade.labelling.users import set_role
    from fpgrade.storage import database

    with database.session() as session:
        account = set_role(session, name, role)
    console.print(f"user {account.name} is now {account.role} (their sessions ended)")


@user_app.command("password")
def user_password(
    name: str = typer.Argument(...),
    password_stdin: bool = typer.Option(False, "--password-stdin",
                                        help="Read the new password from the first line of stdin."),
) -> None:
    """Reset a user's password (asked for, hidden); their open sessions end."""
    from fpgrade.labelling.users import get_user, set_password
    from fpgrade.storage import database

    with database.session() as session:
        get_user(session, name)  # an unknown user is refused before the password is asked for
    password = _password(password_stdin)
    with database.session() as session:
        account = set_password(session, name, password)
    console.print(f"password of {account.name} reset (their sessions ended)")


@campaign_app.command("create")
def campaign_create(
    name: str = typer.Argument(...),
    scale: str = typer.Option(..., "--scale", help="Scale id (fpgrade scales)."),
    movements: list[str] = typer.Option([], "--movement", help="Only these movements (repeat)."),
    subjects: list[str] = typer.Option([], "--subject", help="Only these subjects (repeat)."),
    passes: int = typer.Option(2, "--passes", help="Blind passes per medium (2 or 3)."),
    same_rater: bool = typer.Option(False, "--same-rater",
                                    help="One rater may do several passes of a medium."),
    min_gap_hours: float = typer.Option(0.0, "--min-gap-hours",
                                        help="With --same-rater: hours between their passes."),
    suggestions: bool = typer.Option(False, "--suggestions-in-blind",
                                     help="Show model suggestions in blind passes."),
    check_model: str | None = typer.Option(None, "--check-model", metavar="VERSION",
                                           help="Second check by this model version's "
                                                "predictions instead of asymmetry ranges."),
    percentile: float = typer.Option(0.0, "--percentile",
                                     help="Ranges as [p, 100-p] percentiles (0: min-max)."),
    min_samples: int = typer.Option(3, "--min-samples",
                                    help="Fewer agreed media per class: undecided."),
    include_synthetic: bool = typer.Option(False, "--include-synthetic"),
    unit: str = typer.Option("medium", "--unit", metavar="medium|visit",
                             help="What one grade covers: each photo or video (medium), or each "
                                  "subject's visit, all its movements shown side by side "
                                  "(visit)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a campaign: one blind assignment per selected medium (or visit) and pass."""
    from fpgrade.labelling.campaigns import create_campaign
    from fpgrade.storage import database

    with database.session() as session:
        campaign = create_campaign(
            session, name, scale, registry=get_registry(), movements=movements,
            subjects=subjects or None, include_synthetic=include_synthetic, blind_passes=passes,
            allow_same_rater=same_rater, min_gap_s=int(min_gap_hours * 3600),
            suggestions_in_blind=suggestions, check_model_version=check_model,
            range_percentile=percentile, min_range_samples=min_samples, unit=unit)
    if as_json:
        print_json({**campaign.__dict__, "movements": list(campaign.movements)})
    else:
        console.print(f"campaign {campaign.name} (#{campaign.id}) created on {campaign.scale}, "
                      f"{campaign.blind_passes} blind passes, "
                      f"{'one grade per visit' if campaign.unit == 'visit' else 'one grade per medium'}")


@campaign_app.command("status")
def campaign_status(
    name: str | None = typer.Argument(None, help="A campaign; none: list them all."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Progress and agreement of a campaign (or the list of campaigns)."""
    from fpgrade.labelling.agreement import campaign_agreement
    from fpgrade.labelling.campaigns import (
        campaign_progress, closed_by_itself, closed_note, get_campaign, list_campaigns,
    )
    from fpgrade.storage import database

    with database.session() as session:
        if name is None:
            found = []
            for c in list_campaigns(session):
                row = get_campaign(session, c.id)
                found.append({"id": c.id, "name": c.name, "scale": c.scale, "unit": c.unit,
                              "state": c.state, "closed": closed_note(session, row),
                              "closed_by_itself": closed_by_itself(session, row)})
            if as_json:
                print_json(found)
            for c in [] if as_json else found:    # real tabs (rich would expand them)
                print("\t".join([str(c["id"]), c["name"], c["scale"], c["state"]]
                                        + ([c["closed"]] if c["closed"] else [])))
            return
        scale = get_registry().scale(get_campaign(session, name).scale)
        progress = campaign_progress(session, name)
        agreement = campaign_agreement(session, name, scale)
    if as_json:
        print_json({"progress": progress.as_dict(), "agreement": agreement.as_dict()})
        return
    units = "visits" if progress.unit == "visit" else "media"
    console.print(f"campaign {progress.campaign}: {progress.media} {units}, "
                  f"{progress.assignments_done}/{progress.assignments_total} assignments done")
    if progress.closed:
        console.print(f"{progress.closed} (reopen: fpgrade campaign reopen {progress.campaign})")
    for status, count in progress.as_dict()["statuses"].items():
        console.print(f"  {status}: {count}")
    first, second = agreement.first_check, agreement.second_check
    console.print(f"first check: {first['agreed']}/{first['media']} agree ({_pct(first['percent'])})")
    console.print(f"second check: {second['agree']} agree, {second['disagree']} disagree, "
                  f"{second['undecided']} undecided ({_pct(second['percent'])})")
    for pair in filter(None, [agreement.between_passes, *agreement.between_raters]):
        console.print(f"{pair.first} vs {pair.second}: n={pair.n}, {_pct(pair.percent)}, "
                      f"kappa {_num(pair.kappa)}, quadratic-weighted kappa "
                      f"{_num(pair.weighted_kappa)}")
    console.print(f"Fleiss' kappa: {_num(agreement.fleiss_kappa)} ({agreement.raters} raters)")


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}%"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


@campaign_app.command("check")
def campaign_check(
    name: str = typer.Argument(...),
    partial: bool = typer.Option(False, "--partial",
                                 help="Run before every blind pass is done (ranges from fewer media)."),
) -> None:
    """Run the second check (asymmetry ranges, or the campaign's model) on agreed media."""
    from fpgrade.labelling.second_check import run_second_check
    from fpgrade.storage import database

    with database.session() as session:
        counts = run_second_check(session, name, partial=partial)
    console.print(f"second check: {counts.get('agree', 0)} agree, "
                  f"{counts.get('disagree', 0)} disagree, {counts.get('undecided', 0)} undecided "
                  "(the last two go to adjudication)")


campaign_app.command("close")(campaign_life.campaign_close)
campaign_app.command("reopen")(campaign_life.campaign_reopen)
campaign_app.command("guideline")(campaign_life.campaign_guideline)
campaign_app.command("figures")(campaign_life.campaign_figures)


@labels_app.command("export")
def labels_export(
    out: Path | None = typer.Option(None, "--out", help="CSV file (default: stdout)."),
    scale: str | None = typer.Option(None, "--scale", help="Only this scale."),
    campaign: str | None = typer.Option(None, "--campaign", help="Only this campaign."),
    paths_relative_to: Path | None = typer.Option(
        None, "--paths-relative-to", metavar="FOLDER",
        help="Add each medium's path relative to FOLDER (default: media by id and sha256 "
             "only, no path)."),
) -> None:
    """Final labels with their provenance, as CSV (media named by id and sha256)."""
    from fpgrade.labelling.campaigns import get_campaign
    from fpgrade.labelling.export import count_rows, write_csv
    from fpgrade.labelling.final import final_labels
    from fpgrade.storage import database

    with database.session() as session:
        campaign_id = get_campaign(session, campaign).id if campaign else None
        records = final_labels(session, scale, campaign_id=campaign_id)
    campaign_life.write_out(out, lambda handle: write_csv(
        records, handle, paths_relative_to=paths_relative_to))
    if out is not None:
        err_console.print(f"{count_rows(records).words()} written to {out}")


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    app.add_typer(campaign_app, name="campaign")
    app.add_typer(labels_app, name="labels")
