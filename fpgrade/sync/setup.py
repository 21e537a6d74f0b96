"""Setting Label Studio up for fpgrade, and checking it (issue 17; recipe in docs/labelstudio.md).

- :func:`register_webhooks`: the webhook of each synced project (ANNOTATION_CREATED / UPDATED /
  ANNOTATIONS_DELETED) pointing at ``fpgrade sync serve``; registered once (a second call
  finds it). Label Studio 1.23 refuses a webhook to a loopback or private address while its
  SSRF protection is on (``SSRF_PROTECTION_ENABLED``, on by default; HTTP 403): said in one
  line with the setting to change.
- :func:`check`: what fpgrade needs of the server, each a line that says what is wrong and what
  to do: reachable and Label Studio's API; the token accepted; local files served, from the
  folder fpgrade writes under; every synced project still there, with a webhook to fpgrade;
  webhooks to that address allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from fpgrade.storage.retry import in_transaction
from fpgrade.storage.tables import LsProject, LsTask
from fpgrade.sync.client import Server, SyncError
from fpgrade.sync.links import links, project_or_none

ACTIONS = ["ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_DELETED"]
DOCS = "docs/labelstudio.md"


def _ssrf(server: Server, to: str) -> str:
    return (f"Label Studio at {server.url} refuses webhooks to {to}: its SSRF protection blocks "
            "loopback and private addresses; start it with SSRF_PROTECTION_ENABLED=false "
            f"(see {DOCS})")


def _webhooks(server: Server, project_id: int) -> list:
    found = server.call(f"listing the webhooks of project {project_id}", server.client.webhooks.list,
                        project=str(project_id))
    return [w for w in found if getattr(w, "project", None) == project_id]


def register_webhooks(session: Session, server: Server, to: str,
                      campaign_id: int | None = None) -> list[str]:
    """Register the webhook to ``to`` on each synced project (of a campaign); returns a line
    per project."""
    rows = links(session, server, campaign_id)
    if not rows:
        raise SyncError(f"nothing pushed to Label Studio at {server.url}: push a campaign first "
                        "(a webhook belongs to a project)")
    lines = []
    for row in rows:
        if project_or_none(server, row.project_id) is None:
            lines.append(f"{row.title}: gone from {server.url} (push with --relink), no webhook")
            continue
        have = [w for w in _webhooks(server, row.project_id) if w.url == to]
        if have:
            hook = have[0]
            if not hook.is_active or sorted(hook.actions or []) != sorted(ACTIONS):
                server.call("updating a webhook", server.client.webhooks.update, id=hook.id,
                            url=to, is_active=True, actions=ACTIONS, send_payload=True,
                            send_for_all_actions=False)
            lines.append(f"{row.title} (project {row.project_id}): webhook to {to} already there")
            continue
        try:
            server.call(f"registering a webhook to {to}", server.client.webhooks.create, url=to,
                        project=row.project_id, actions=ACTIONS, is_active=True,
                        send_payload=True, send_for_all_actions=False)
        except SyncError as exc:
            if exc.status == 403:
                raise SyncError(_ssrf(server, to), status=403) from None
            raise
        lines.append(f"{row.title} (project {row.project_id}): webhook to {to} registered")
    return lines


@dataclass(frozen=True)
class Finding:
    ok: bool
    line: str


def _get(server: Server, path: str):
    """A plain GET on the server with the token (for what the SDK has no call for)."""
    wrapper = server.client._client_wrapper
    return server.call(f"GET {path}", wrapper.httpx_client.httpx_client.get,
                       server.url + path, headers=wrapper.get_headers(), timeout=30)


def check(session: Session, server: Server, files_root: Path | None,
          webhook: str | None = None) -> list[Finding]:
    """Everything fpgrade needs of the server (see the module docstring); stops at the first
    finding that makes the rest meaningless (not reachable, token refused)."""
    out: list[Finding] = []
    try:
        user = server.identify()
    except SyncError as exc:
        hint = (" (FPGRADE_LABEL_STUDIO_TOKEN must be the user's legacy API token: start Label "
                "Studio with LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true)"
                if exc.status in (401, 403) else "")
        return [Finding(False, f"{exc}{hint}")]
    out.append(Finding(True, f"Label Studio {server.release()} answers at {server.url}"))
    out.append(Finding(True, f"the token is {user}'s"))
    answer = _get(server, "/data/local-files/?d=fpgrade-check/none.png")
    if answer.status_code == 403 and b"disabled" in answer.content:
        out.append(Finding(False, "Label Studio does not serve local files: start it with "
                                  "LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED=true and "
                                  "LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT=<FPGRADE_LABEL_STUDIO_FILES_ROOT>"))
    else:
        out.append(Finding(True, "Label Studio serves local files"))
    if files_root is None:
        out.append(Finding(False, "no files root: set FPGRADE_LABEL_STUDIO_FILES_ROOT to Label "
                                  "Studio's LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT"))
    elif not Path(files_root).is_dir():
        out.append(Finding(False, f"the files root {files_root} is not a folder here"))
    rows = links(session, server)
    if not rows:
        out.append(Finding(True, "no campaign pushed yet (`fpgrade sync push --campaign NAME`)"))
    targets: set[str] = {webhook} if webhook else set()
    for row in rows:
        out += _check_project(session, server, row, webhook, targets)
    for target in sorted(targets):
        out.append(_check_ssrf(server, target, rows))
    return out


def _check_project(session: Session, server: Server, row: LsProject,
                   webhook: str | None, targets: set[str]) -> list[Finding]:
    from fpgrade.storage.tables import Campaign
    from fpgrade.sync.links import gone_message

    project = project_or_none(server, row.project_id)
    name = f"project {row.title!r} (id {row.project_id})"
    if project is None:
        campaign = in_transaction(session, lambda: session.get(Campaign, row.campaign_id).name
                                  if row.campaign_id else None)
        return [Finding(False, gone_message(server, row, campaign))]
    out = [Finding(True, f"{name} is there")]
    task_id = in_transaction(session, lambda: session.exec(select(LsTask.task_id).where(
        LsTask.ls_project_id == row.id).limit(1)).first())
    if task_id is not None:
        task = server.call(f"reading task {task_id}", server.client.tasks.get, id=task_id)
        link = next((v for k, v in (task.data or {}).items() if k in ("image", "video")), None)
        if link:
            served = _get(server, link)
            out.append(Finding(served.status_code == 200,
                               f"{name}: its media are served" if served.status_code == 200 else
                               f"{name}: Label Studio answers HTTP {served.status_code} for a "
                               "medium: its LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT must be "
                               "FPGRADE_LABEL_STUDIO_FILES_ROOT, and the file still there"))
    hooks = _webhooks(server, row.project_id)
    wanted = [h for h in hooks if webhook is None or h.url == webhook]
    targets.update(h.url for h in wanted)
    if not wanted:
        to = webhook or "http://HOST:8765/"
        out.append(Finding(False, f"{name} has no webhook" + (f" to {webhook}" if webhook else "")
                           + f": `fpgrade sync webhook register --to {to}`"))
    elif not all(h.is_active for h in wanted):
        out.append(Finding(False, f"{name}: its webhook is disabled: `fpgrade sync webhook "
                                  f"register --to {wanted[0].url}` enables it"))
    else:
        out.append(Finding(True, f"{name} has a webhook to {', '.join(h.url for h in wanted)}"))
    return out


def _check_ssrf(server: Server, webhook: str, rows: list[LsProject]) -> Finding:
    """Whether the server accepts a webhook to ``webhook`` (a disabled probe, deleted at once):
    with SSRF protection on, one already registered is silently never delivered."""
    try:
        probe = server.call("registering a probe webhook", server.client.webhooks.create,
                            url=webhook, is_active=False, actions=ACTIONS,
                            **({"project": rows[0].project_id} if rows else {}))
    except SyncError as exc:
        if exc.status == 403:
            return Finding(False, _ssrf(server, webhook))
        if exc.status == 404 and not rows:  # no project to hang the probe on; the address
            return Finding(True, f"Label Studio does not block webhooks to {webhook}")  # passed
        return Finding(False, str(exc))
    server.call("deleting the probe webhook", server.client.webhooks.delete, id=probe.id)
    return Finding(True, f"Label Studio accepts webhooks to {webhook}")
