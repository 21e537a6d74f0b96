"""The tasks of a Label Studio project changed since a cursor, page by page.

Label Studio stamps a task's ``updated_at`` whenever one of its annotations is created, edited or
deleted (``Annotation.update_task`` in the server), and its Data Manager filters tasks on that
stamp (``filter:tasks:updated_at``, ordered by ``tasks:updated_at``). A page is the first
``page_size`` tasks at or after a lower bound; the next page's bound is the newest stamp of the
page (keyset pagination). Offsets would shift when a task is updated during the read (it moves to
the end) and skip the task after it; a bound only moves forward. Tasks at the bound that were
already returned are dropped; a page holding nothing new (more tasks share one stamp than a page
holds) is asked again twice as large.

Each task comes with its annotations (``fields=all``, only :data:`INCLUDE`): id, ``completed_by``, ``updated_at``,
``was_cancelled``, ``result``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from fpgrade.sync.client import Server

#: Label Studio's Data Manager date format (``data_manager.managers.DATETIME_FORMAT``)
LS_DATETIME = "%Y-%m-%dT%H:%M:%S.%fZ"
PAGE_SIZE = 100
MAX_PAGE_SIZE = 10_000
#: the fields a pull reads, of the task and (same names) of its annotations: the rest of a task,
#: predictions included, costs the server about four times as long to serialise
INCLUDE = "id,updated_at,annotations,completed_by,was_cancelled,result"


@dataclass(frozen=True)
class RemoteAnnotation:
    id: int
    user_id: int | None
    updated_at: str
    cancelled: bool
    result: list


@dataclass(frozen=True)
class ChangedTask:
    id: int
    updated_at: datetime
    annotations: tuple[RemoteAnnotation, ...]


def parse_stamp(value: str | datetime) -> datetime:
    """A Label Studio time stamp (ISO text or datetime) as an aware UTC datetime."""
    stamp = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return stamp.replace(tzinfo=timezone.utc) if stamp.tzinfo is None else stamp.astimezone(timezone.utc)


def format_stamp(stamp: datetime) -> str:
    return stamp.astimezone(timezone.utc).strftime(LS_DATETIME)


def _field(item, name: str, default=None):
    return item.get(name, default) if isinstance(item, dict) else getattr(item, name, default)


def _annotation(item) -> RemoteAnnotation:
    who = _field(item, "completed_by")
    who = who if isinstance(who, int) or who is None else _field(who, "id")
    updated = _field(item, "updated_at")
    updated = updated.isoformat() if hasattr(updated, "isoformat") else str(updated)
    return RemoteAnnotation(int(_field(item, "id")), who, updated,
                            bool(_field(item, "was_cancelled", False)),
                            list(_field(item, "result") or []))


def _query(since: datetime | None) -> str:
    query: dict = {"ordering": ["tasks:updated_at"]}
    if since is not None:
        query["filters"] = {"conjunction": "and", "items": [{
            "filter": "filter:tasks:updated_at", "operator": "greater_or_equal",
            "type": "Datetime", "value": format_stamp(since)}]}
    return json.dumps(query)


def changed_tasks(server: Server, project_id: int, since: datetime | None,
                  page_size: int | None = None) -> Iterator[list[ChangedTask]]:
    """Pages of the tasks of ``project_id`` updated at or after ``since`` (every task if None),
    oldest stamp first; a task once per stamp (updated during the read, it comes again). Each page is one request (the next is sent only when
    the caller asks for the next page)."""
    page_size = page_size or PAGE_SIZE
    bound, returned, size = since, set(), page_size
    while True:
        pager = server.call(f"reading the tasks of project {project_id} changed since "
                            f"{format_stamp(bound) if bound else 'the start'}",
                            server.client.tasks.list, project=project_id, fields="all",
                            include=INCLUDE,
                            query=_query(bound), page=1, page_size=size)
        items = list(pager.items or [])
        page = [ChangedTask(int(t.id), parse_stamp(t.updated_at),
                            tuple(_annotation(a) for a in (t.annotations or [])))
                for t in items]
        page = [t for t in page if (t.id, t.updated_at) not in returned]  # a task updated
        if page:                                     # during the pull comes again, newer
            returned.update((t.id, t.updated_at) for t in page)
            bound = max(t.updated_at for t in page)
            size = page_size
            yield page
        if len(items) < size:
            return
        if not page:
            if size >= MAX_PAGE_SIZE:
                return
            size = min(size * 2, MAX_PAGE_SIZE)


def overlap_start(cursor: str | None, overlap: timedelta) -> datetime | None:
    """Where a pull starts reading: the cursor less ``overlap``, or the start (None)."""
    return None if not cursor else parse_stamp(cursor) - overlap
