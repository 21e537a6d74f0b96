"""Reading the tasks changed since a cursor (fpgrade.sync.changes) against a fake Label Studio
that filters and orders as the server's Data Manager does: one ordering key, ties in any order."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from fpgrade.sync.changes import LS_DATETIME, changed_tasks
from fpgrade.sync.client import Server

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)

OPERATORS = {"greater": lambda a, b: a > b, "greater_or_equal": lambda a, b: a >= b,
             "less_or_equal": lambda a, b: a <= b}


class FakeTasks:
    """``tasks.list`` of one project; ``during`` runs before the request with that number."""

    def __init__(self, stamps: dict[int, datetime], during=None):
        self.stamps, self.during, self.requests = stamps, during or {}, 0

    def list(self, *, project, fields, include, query, page, page_size):
        self.requests += 1
        if self.requests in self.during:
            self.during[self.requests](self.stamps)
        query = json.loads(query)
        rows = list(self.stamps.items())
        for item in query.get("filters", {}).get("items", []):
            column = item["filter"].removeprefix("filter:tasks:")
            if column == "updated_at":
                value = datetime.strptime(item["value"], LS_DATETIME).replace(tzinfo=timezone.utc)
                rows = [r for r in rows if OPERATORS[item["operator"]](r[1], value)]
            else:
                rows = [r for r in rows if OPERATORS[item["operator"]](r[0], float(item["value"]))]
        if query["ordering"] == ["tasks:id"]:
            rows.sort(key=lambda r: r[0])
        else:  # by stamp only; ties in an order of the database's choosing (here: newest id first)
            rows.sort(key=lambda r: (r[1], -r[0]))
        rows = rows[(page - 1) * page_size:page * page_size]
        return SimpleNamespace(items=[SimpleNamespace(id=i, updated_at=s, annotations=[]) for i, s in rows])


def _read(fake, since=None, page_size=100):
    server = Server("http://ls.test", SimpleNamespace(tasks=fake))
    return [(t.id, t.updated_at) for page in changed_tasks(server, 1, since, page_size) for t in page]


def test_more_tasks_at_one_stamp_than_a_page_holds_are_all_read_once():
    stamps = {i: T0 for i in range(1, 251)}  # a bulk action: 250 tasks stamped alike
    stamps.update({i: T0 + timedelta(seconds=i) for i in range(251, 281)})
    got = _read(FakeTasks(stamps))
    assert sorted(got) == sorted(stamps.items())
    assert len(got) == len(set(got))


def test_a_task_updated_during_the_read_comes_again_and_none_is_skipped():
    stamps = {i: T0 + timedelta(seconds=i) for i in range(1, 301)}

    def edit_task_5(current):  # before the second page: task 5 (already read) moves to the end
        current[5] = T0 + timedelta(hours=1)

    got = _read(FakeTasks(stamps, during={2: edit_task_5}))
    assert {i for i, _ in got} == set(range(1, 301))
    assert (5, T0 + timedelta(seconds=5)) in got and (5, T0 + timedelta(hours=1)) in got
    assert len(got) == 301


def test_only_tasks_at_or_after_the_bound_are_read_and_a_short_read_is_one_request():
    stamps = {i: T0 + timedelta(seconds=i) for i in range(1, 1001)}
    fake = FakeTasks(stamps)
    got = _read(fake, since=T0 + timedelta(seconds=950))
    assert [i for i, _ in got] == list(range(950, 1001))
    assert fake.requests == 1
