"""One simulated rater or adjudicator in its own process (``python -m tests.labelling_worker``),
for the concurrency tests of the labelling workflow. Prints one JSON line of what it did.

Usage: ``MODE USER_ID USER_NAME ROLE GO_FILE [CAMPAIGN | ASSIGNMENT_ID...]``; it waits until
``GO_FILE`` exists, so that all workers start at once. The database is FPGRADE_DATABASE_URL.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def label_for(media_id: int, pass_number: int) -> str:
    """Raters disagree on every fifth medium: its second pass says R2, whichever rater takes it
    (a rule on the rater's name made the disagreements depend on which processes the machine
    ran first: on a busy machine none came)."""
    return "R2" if media_id % 5 == 0 and pass_number == 2 else "L1"


def main(argv: list[str]) -> dict:
    from fpgrade.labelling.model import AlreadyDecidedError
    from fpgrade.labelling.users import Account
    from fpgrade.labelling.workflow import adjudication_queue, decide, next_assignment, submit_label
    from fpgrade.storage import database

    mode, user_id, name, role, go = argv[:5]
    me = Account(int(user_id), name, role)
    queue: list[int] = []
    if mode == "adjudicate":   # read before the start: every adjudicator sees the whole queue
        with database.session() as session:
            queue = [a.assignment_id for a in adjudication_queue(session, me)]
    Path(f"{go}.ready.{os.getpid()}").touch()   # imported (and read): the test starts all at once
    while not Path(go).exists():
        time.sleep(0.01)
    out: dict = {"user": name, "done": [], "told": 0, "latencies": []}
    if mode == "rate":
        campaign = int(argv[5])
        while True:
            start = time.perf_counter()
            with database.session() as session:
                task = next_assignment(session, me, campaign)
                if task is None:
                    break
                label = label_for(task.media_id, task.pass_number)
                first = submit_label(session, me, task.assignment_id, label=label)
                again = submit_label(session, me, task.assignment_id, label=label)  # double click
            out["latencies"].append(time.perf_counter() - start)
            out["done"].append({"assignment": task.assignment_id, "media": task.media_id,
                                "pass": task.pass_number, "annotation": first.annotation_id,
                                "first_duplicate": first.duplicate,
                                "again_duplicate": again.duplicate,
                                "same": again.annotation_id == first.annotation_id})
    elif mode == "submit":
        for assignment in map(int, argv[5:]):
            with database.session() as session:
                result = submit_label(session, me, assignment, label="N")
            out["done"].append({"assignment": assignment, "duplicate": result.duplicate})
    elif mode == "adjudicate":
        for assignment in queue:
            with database.session() as session:
                try:
                    decide(session, me, assignment, label="L1", reason=f"decided by {name}")
                    out["done"].append(assignment)
                except AlreadyDecidedError:
                    out["told"] += 1
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
