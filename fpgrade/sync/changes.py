"""The tasks of a Label Studio project changed since a cursor, page by page.

Label Studio stamps a task's ``updated_at`` whenever one of its annotations is created, edited or
deleted (``Annotation.update_task`` in the server), and its Data Manager filters tasks on that
stamp (``filter:tasks:updated_at``) and orders by it (``tasks:updated_at``, one ordering key
only). Pages are read by key, never by offset: an offset shifts when a task is updated during
the read (it moves to the end) and skips the task after it. A page is the first ``PAGE_SIZE``
tasks at or after a bound stamp; the next bound is the newest stamp of the page. A full page all
at one stamp (a bulk action in Label Studio stamps many tasks alike) is then read by task id
within that stamp, and the read goes on after it. A task updated during the read comes again
with its newer stamp; a task is returned once per stamp.

A page shorter than asked ends the read: the server's ``TASK_API_PAGE_SIZE_MAX``, if set, must
not be below :data:`PAGE_SIZE` (Label Studio's own default page is 100).

Each task comes with its annotations (``fields=all``, only :data:`INCLUDE`): id,
``completed_by``, ``updated_at``, ``was_cancelled``, ``result``.
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


def _filter(column: str, operator: str, kind: str, value) -> dict:
    return {"filter": f"filter:tasks:{column}", "operator": operator, "type": kind, "value": value}


def _read(server: Server, project_id: int, filters: list[dict], ordering: str, size: int,
          what: str) -> list[ChangedTask]:
    query: dict = {"ordering": [f"tasks:{ordering}"]}
    if filters:
        query["filters"] = {"conjunction": "and", "items": filters}
    pager = server.call(f"reading the tasks of project {project_id} {what}", server.client.tasks.list,
                        project=project_id, fields="all", include=INCLUDE, query=json.dumps(query),
                        page=1, page_size=size)
    return [ChangedTask(int(t.id), parse_stamp(t.updated_at),
                        tuple(_annotation(a) for a in (t.annotations or []))) for t in pager.items or []]


def _one_stamp(server: Server, project_id: int, stamp: datetime, size: int) -> Iterator[list[ChangedTask]]:
    """Every task stamped exactly ``stamp``, by id."""
    at = format_stamp(stamp)
    same = [_filter("updated_at", "greater_or_equal", "Datetime", at),
            _filter("updated_at", "less_or_equal", "Datetime", at)]
    last = 0
    while True:
        page = _read(server, project_id, same + [_filter("id", "greater", "Number", last)], "id",
                     size, f"changed at {at}")
        if page:
            last = max(t.id for t in page)
            yield page
        if len(page) < size:
            return


def changed_tasks(server: Server, project_id: int, since: datetime | None,
                  page_size: int | None = None) -> Iterator[list[ChangedTask]]:
    """Pages of the tasks of ``project_id`` updated at or after ``since`` (every task if None),
    oldest stamp first; a task once per stamp (updated during the read, it comes again). Each
    page is one request (the next is sent only when the caller asks for the next page)."""
    size = page_size or PAGE_SIZE
    bound, operator, returned = since, "greater_or_equal", set()

    def fresh(page: list[ChangedTask]) -> list[ChangedTask]:
        page = [t for t in page if (t.id, t.updated_at) not in returned]
        returned.update((t.id, t.updated_at) for t in page)
        return page

    while True:
        filters = [] if bound is None else [_filter("updated_at", operator, "Datetime", format_stamp(bound))]
        items = _read(server, project_id, filters, "updated_at", size,
                      f"changed since {format_stamp(bound) if bound else 'the start'}")
        if page := fresh(items):
            yield page
        if len(items) < size:
            return
        top = max(t.updated_at for t in items)
        if bound is None or top > bound:
            bound, operator = top, "greater_or_equal"
            continue
        for page in _one_stamp(server, project_id, bound, size):  # a full page at one stamp
            if page := fresh(page):
                yield page
        operator = "greater"


def overlap_start(cursor: str | None, overlap: timedelta) -> datetime | None:
    """Where a pull starts reading: the cursor less ``overlap``, or the start (None)."""
    return None if not cursor else parse_stamp(cursor) - overlap
