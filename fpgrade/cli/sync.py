"""``fpgrade sync push`` / ``pull``: the labelling campaigns in a Label Studio server.

The server and token come from ``--url`` / ``FPGRADE_LABEL_STUDIO_URL`` and
``FPGRADE_LABEL_STUDIO_TOKEN``; media are served as local files under ``--files-root`` /
``FPGRADE_LABEL_STUDIO_FILES_ROOT``. label-studio-sdk and SQLAlchemy are imported inside the
commands.
"""

from __future__ import annotations

from pathlib import Path

import typer

from fpgrade.cli.console import console, err_console, print_json
from fpgrade.registry import get_registry

sync_app = typer.Typer(help="Sync labelling campaigns with a Label Studio server.",
                       no_args_is_help=True)

URL_OPTION = typer.Option(None, "--url", metavar="URL",
                          help="Label Studio server (default: FPGRADE_LABEL_STUDIO_URL).")


@sync_app.command("push")
def push(campaign: str = typer.Option(..., "--campaign", metavar="NAME", help="The campaign to push."),
         project: str | None = typer.Option(None, "--project", metavar="TITLE",
                                            help="Label Studio project title (default: 'fpgrade: NAME')."),
         url: str | None = URL_OPTION,
         files_root: Path | None = typer.Option(
             None, "--files-root", metavar="FOLDER",
             help="The server's local-files document root (default: FPGRADE_LABEL_STUDIO_FILES_ROOT)."),
         relink: bool = typer.Option(False, "--relink",
                                     help="The campaign's project is gone from Label Studio: push "
                                          "to a new project, keeping every annotation pulled."),
         another_project: bool = typer.Option(False, "--another-project",
                                              help="Put the campaign in a second project (--project)."),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """Push a campaign's media as tasks with the current model's pre-annotations (least
    confident first); a second push adds only media not yet there, and after a promotion or
    rollback refreshes the pre-annotations of the tasks already there."""
    from fpgrade.settings import get_settings
    from fpgrade.storage import database
    from fpgrade.sync.client import SyncError, connect
    from fpgrade.sync.push import push_campaign

    root = files_root or get_settings().label_studio_files_root
    if root is None:
        raise SyncError("no Label Studio files root: set FPGRADE_LABEL_STUDIO_FILES_ROOT or pass "
                        "--files-root (the server's LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT)")
    server = connect(url)
    with database.session() as session:
        report = push_campaign(session, server, get_registry(), campaign, files_root=root,
                               title=project, relink=relink, another_project=another_project)
    for problem in report.problems:
        err_console.print(f"warning: {problem}")
    if as_json:
        print_json({"project_id": report.project_id, "title": report.title,
                    "created_project": report.created_project, "added": report.added,
                    "already": report.already, "model_version": report.model_version,
                    "order": report.order, "refreshed": report.refreshed,
                    "relinked": report.relinked, "kept": report.kept})
        return
    if report.relinked:
        console.print(f"the campaign's project was gone: pushed to a new project, "
                      f"{report.kept} annotations pulled from the old one kept")
    console.print(f"{report.title} (project {report.project_id} at {server.url}): "
                  f"{report.added} tasks added, {report.already} already there"
                  + (f"; pre-annotations by {report.model_version}" if report.model_version else "")
                  + (f" ({report.refreshed} tasks already there refreshed to it)"
                     if report.refreshed else ""))


@sync_app.command("pull")
def pull(campaign: str | None = typer.Option(None, "--campaign", metavar="NAME",
                                            help="Only the project of this campaign."),
         url: str | None = URL_OPTION,
         full: bool = typer.Option(False, "--full",
                                   help="Read every task again, not only those changed since the last pull."),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """Pull Label Studio annotations changed since the last pull into the labelling workflow
    (each a blind pass); a re-run adds nothing, edits update ours; a deleted annotation, a
    rater's replaced one or an edit outside the scale withdraws its pass (reported). A project
    gone from Label Studio is reported and the others are still pulled."""
    from dataclasses import asdict

    from fpgrade.storage import database
    from fpgrade.sync.client import connect
    from fpgrade.sync.pull import pull as pull_all

    server = connect(url)
    with database.session() as session:
        reports = pull_all(session, server, get_registry(), campaign, full=full)
    for report in reports.values():
        for problem in report.problems:
            err_console.print(f"warning: {problem}")
    if as_json:
        print_json({title: asdict(r) for title, r in reports.items()})
    else:
        for title, r in reports.items():
            console.print(f"{title}: {r.added} annotations added ({r.as_blind_pass} as blind "
                          f"passes), {r.updated} updated, {len(r.deleted)} deleted in Label "
                          f"Studio, {r.withdrawn} passes withdrawn, {r.unchanged} unchanged"
                          + (" (then stopped)" if r.error else ""))
    failed = [(title, r.error) for title, r in reports.items() if r.error]
    for title, error in failed:
        err_console.print(f"Error: {title}: {error}")
    if failed:
        raise typer.Exit(1)


def retrain_command(scale: str, epochs: int, margin: float, out: Path, policy) -> list[str]:
    """The ``fpgrade retrain`` that ``sync serve`` starts; ``policy``: the group's
    :class:`~fpgrade.models.promotion.AutoPromotion`, or None (a person promotes)."""
    import sys

    command = [sys.executable, "-m", "fpgrade", "retrain", "--scale", scale, "--epochs", str(epochs),
               "--margin", str(margin), "--out", str(out)]
    if policy is not None:
        command += ["--auto-promote", "--min-test-samples", str(policy.min_test_samples),
                    "--min-metric", str(policy.min_metric)]
    return command


@sync_app.command("serve")
def serve(url: str | None = URL_OPTION,
          host: str = typer.Option("127.0.0.1", "--host"),
          port: int = typer.Option(8765, "--port"),
          threshold: int = typer.Option(50, "--retrain-after", min=1, metavar="N",
                                        help="Start a retrain once N final labels are new to the current version and its retrains."),
          epochs: int = typer.Option(10, "--retrain-epochs", min=1, metavar="N"),
          margin: float = typer.Option(0.0, "--retrain-margin", min=0.0,
                                       help="The retrain's --margin (how much worse it may be and still be promoted)."),
          runs: Path = typer.Option(Path("runs"), "--runs", metavar="FOLDER",
                                    help="Where retrain runs (and their logs) are written."),
          auto_promote: bool = typer.Option(False, "--auto-promote",
                                            help="Let a retrain promote its version without a person "
                                                 "(needs --min-test-samples and --min-metric)."),
          min_test_samples: int | None = typer.Option(None, "--min-test-samples", metavar="N",
                                                      help="With --auto-promote: the fewest test samples to decide on."),
          min_metric: float | None = typer.Option(None, "--min-metric", metavar="X",
                                                  help="With --auto-promote: the lowest macro-F1 to promote.")) -> None:
    """Receive Label Studio webhooks (ANNOTATION_CREATED / UPDATED): validate, queue a pull, and
    start a retrain in the background past --retrain-after new final labels. A retrain registers
    a candidate that a person promotes (`fpgrade models promote`), unless --auto-promote."""
    import signal
    import subprocess
    import sys
    import threading
    from datetime import datetime, timezone

    from sqlmodel import select

    from fpgrade.models.current import current_versions
    from fpgrade.storage import database
    from fpgrade.models.lifecycle import new_final_labels
    from fpgrade.training.retrain_plan import unfinished_plans
    from fpgrade.storage.tables import ModelVersion
    from fpgrade.sync.client import SyncError, connect
    from fpgrade.sync.links import links
    from fpgrade.sync.pull import pull_project
    from fpgrade.sync.webhook import Hub, make_server

    from fpgrade.models.promotion import auto_promotion

    policy = auto_promotion(auto_promote, min_test_samples, min_metric)  # one line before anything starts
    server = connect(url)
    server.identify()  # a server that is not there is said before listening
    registry = get_registry()

    def known() -> set[int]:  # under any URL that reaches this server (sync.links)
        with database.read_session() as session:
            return {row.project_id for row in links(session, server)}

    def row_of(project_id: int) -> tuple[int, str]:
        with database.read_session() as session:
            row = next(r for r in links(session, server) if r.project_id == project_id)
            return row.id, row.scale

    def pull_one(project_id: int) -> None:
        with database.session() as session:
            try:
                report = pull_project(session, server, registry, row_of(project_id)[0])
            except SyncError as exc:  # said here, and kept in the hub's errors
                err_console.print(f"Error: project {project_id}: {exc}")
                raise
        console.print(f"project {project_id}: {report.added} added, {report.updated} updated, "
                      f"{report.withdrawn} passes withdrawn")
        for problem in report.problems:
            err_console.print(f"warning: {problem}")

    def due(project_id: int) -> str | None:
        scale = row_of(project_id)[1]
        info = current_versions([scale]).get(scale)
        if info is None or not info.model_id:
            return None
        with database.read_session() as session:
            current = session.exec(select(ModelVersion).where(
                ModelVersion.model_id == info.model_id, ModelVersion.version == info.version)).one()
            new = new_final_labels(session, current) - attempted.get(scale, set())
        if len(new) < threshold:  # labels a retrain of this server already took (one that failed
            return None           # too) do not start another: only new ones do
        attempted.setdefault(scale, set()).update(new)
        return scale

    attempted: dict[str, set[int]] = {}
    for folder, plan in unfinished_plans(runs):  # left by an earlier serve: maybe still running
        attempted.setdefault(plan.scale, set()).update(plan.final_label_ids)
        err_console.print(f"note: the retrain of {plan.scale} in {folder} has not decided yet; if it "
                          f"is not running, finish it with `fpgrade retrain --scale {plan.scale} "
                          f"--epochs {plan.epochs} --margin {plan.margin}"
                          + (f" --auto-promote --min-test-samples {plan.min_test_samples} "
                             f"--min-metric {plan.min_metric}" if plan.auto_promote else "")
                          + f" --out {folder} --resume`")

    def start_retrain(scale: str):
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        out = runs / f"retrain-{scale}-{stamp}"
        runs.mkdir(parents=True, exist_ok=True)
        log = (runs / f"retrain-{scale}-{stamp}.log").open("wb")
        console.print(f"starting a retrain of {scale} into {out} (log {log.name})")
        return subprocess.Popen(retrain_command(scale, epochs, margin, out, policy), stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)

    def finished(process, code: int) -> None:
        console.print(f"the retrain (pid {process.pid}) finished with exit code {code}")

    hub = Hub(known, pull_one, due, start_retrain, on_finished=finished)
    http = make_server(hub, host, port)
    stop = threading.Event()
    worker = threading.Thread(target=hub.run_worker, args=(stop,), daemon=True)
    worker.start()
    console.print(f"listening on http://{host}:{port}/ for Label Studio webhooks of {server.url}")

    def stop_on_term(signum, frame) -> None:  # SIGTERM (a service manager's stop) as Ctrl-C
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_on_term)
    try:
        http.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second stop signal while shutting down
        signal.signal(signal.SIGINT, signal.SIG_IGN)   # must not cut the shutdown short
        stop.set()
        http.server_close()
        worker.join(timeout=30)  # the page being stored is one transaction: a stop loses nothing
        running = [p for p in hub.retrains if p.poll() is None]
        if running:
            console.print(f"stopped; the retrain (pid {running[0].pid}) goes on, its log is in {runs}")
        else:
            console.print("stopped")


webhook_app = typer.Typer(help="The Label Studio webhooks that `fpgrade sync serve` receives.",
                          no_args_is_help=True)
sync_app.add_typer(webhook_app, name="webhook")


@webhook_app.command("register")
def webhook_register(to: str = typer.Option(..., "--to", metavar="URL",
                                            help="Where `fpgrade sync serve` listens, as Label Studio "
                                                 "reaches it (e.g. http://127.0.0.1:8765/)."),
                     campaign: str | None = typer.Option(None, "--campaign", metavar="NAME",
                                                         help="Only the project of this campaign."),
                     url: str | None = URL_OPTION) -> None:
    """Register the webhook of every pushed project (annotation created, updated, deleted)
    pointing at `fpgrade sync serve`; a second run finds it there."""
    from fpgrade.storage import database
    from fpgrade.sync.client import connect
    from fpgrade.sync.setup import register_webhooks

    server = connect(url)
    with database.session() as session:
        campaign_id = None
        if campaign is not None:
            from fpgrade.labelling.campaigns import get_campaign

            campaign_id = get_campaign(session, campaign).id
            session.rollback()
        for line in register_webhooks(session, server, to, campaign_id):
            console.print(line)


@sync_app.command("check")
def check(url: str | None = URL_OPTION,
          files_root: Path | None = typer.Option(None, "--files-root", metavar="FOLDER",
                                                 help="default: FPGRADE_LABEL_STUDIO_FILES_ROOT"),
          webhook: str | None = typer.Option(None, "--webhook", metavar="URL",
                                             help="Also check that Label Studio accepts webhooks to "
                                                  "this address (where `sync serve` listens).")) -> None:
    """Check the Label Studio setup: server, token, local files, projects, webhooks. One line
    each; exit code 1 when something is wrong."""
    from fpgrade.settings import get_settings
    from fpgrade.storage import database
    from fpgrade.sync.client import connect
    from fpgrade.sync.setup import check as run_check

    server = connect(url)
    root = files_root or get_settings().label_studio_files_root
    with database.session() as session:
        findings = run_check(session, server, root, webhook)
    for finding in findings:
        (console if finding.ok else err_console).print(
            ("ok: " if finding.ok else "problem: ") + finding.line)
    if not all(f.ok for f in findings):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(sync_app, name="sync")
