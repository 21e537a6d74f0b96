"""How the cost of ``fpgrade sync pull`` grows: with new annotations, not with the project.

    .venv/bin/python -m bench.labelstudio_pull [--sizes 1000 5000 20000] [--new 100] [--rounds 3]
                                              [--json OUT.json]

Starts a real Label Studio server (``.venv-labelstudio``, as the tests do) and, for each size N,
a project of N tasks that each carry one annotation, created through its API (task import with
annotations, in batches of 1000), mirrored in a fresh fpgrade database as a pushed sided7
campaign (media, campaign, ``LsProject``/``LsTask``: what ``fpgrade sync push`` records). Then:

1. the first pull, which stores all N annotations (timed once);
2. ``rounds`` rounds of ``--new`` new annotations (``annotations.create`` on random tasks,
   through the API), each followed by a pull (timed; the median is reported with the requests it
   sent and the tasks it re-read because they fell in the cursor's overlap window);
3. one ``--full`` pull, which reads every task again: what every pull cost before the cursor.

A warm-up round runs first, at least :data:`fpgrade.sync.pull.OVERLAP` after the import, so
that the overlap window holds the previous round, as it would in use, not the import.
Machine and load matter: compare the sizes within one run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BATCH = 1000


def _timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


class CountingTasks:
    """Counts the task-list requests a pull sends (one per page) and the time they take."""

    def __init__(self, server) -> None:
        self.real, self.count, self.seconds = server.client.tasks.list, 0, 0.0
        server.client.tasks.list = self

    def __call__(self, **kwargs):
        self.count += 1
        start = time.perf_counter()
        try:
            return self.real(**kwargs)
        finally:
            self.seconds += time.perf_counter() - start


def make_project(client, size: int, files_root: Path, registry) -> int:
    """N media, a sided7 campaign over them, a Label Studio project with N annotated tasks, and
    the fpgrade records of a push; returns the LsProject id."""
    from sqlmodel import select

    from fpgrade.labelling.campaigns import create_campaign
    from fpgrade.storage import database
    from fpgrade.storage.tables import LsProject, LsTask, Media, Subject, Visit
    from fpgrade.sync.config import labelling_config, result_of
    from tests.media_rows import add_medium

    scale = registry.scale("sided7")
    name = f"pull-{size}"
    with database.session() as session:
        for index in range(size):
            add_medium(session, f"{name}-{index:05d}", files_root / name / f"{index}.png",
                       hashlib.sha256(f"{name}-{index}".encode()).hexdigest())
        session.commit()
        campaign = create_campaign(session, name, "sided7", registry=registry,  # the new media:
                                   allow_same_rater=True, seed=1)  # older ones are in a campaign
        media = session.exec(select(Media.id, Media.sha256).join(Visit).join(Subject).where(
            Subject.code.startswith(name + "-")).order_by(Media.id)).all()
    project = client.projects.create(title=f"fpgrade: {name}",
                                     label_config=labelling_config(scale, "image"))
    levels = [lv.code for lv in scale.levels]
    rng = random.Random(size)
    for start in range(0, size, BATCH):
        client.projects.import_tasks(id=project.id, request=[{
            "data": {"image": f"/data/local-files/?d={name}/{i}.png", "movement": "MV0",
                     "fpgrade_media_id": media_id, "fpgrade_sha256": sha},
            "annotations": [{"result": result_of(scale, rng.choice(levels), "image")}]}
            for i, (media_id, sha) in enumerate(media[start:start + BATCH], start)])
    tasks = {t.data["fpgrade_media_id"]: t.id
             for t in client.tasks.list(project=project.id, page_size=BATCH)}
    with database.session() as session:
        row = LsProject(url=os.environ["FPGRADE_LABEL_STUDIO_URL"], project_id=project.id,
                        title=project.title, scale=scale.id, campaign_id=campaign.id)
        session.add(row)
        session.flush()
        session.add_all(LsTask(ls_project_id=row.id, media_id=m, task_id=tasks[m]) for m, _ in media)
        session.commit()
        return row.id


def measure(size: int, new: int, rounds: int, client, files_root: Path, registry) -> dict:
    from sqlmodel import select

    from fpgrade.storage import database
    from fpgrade.storage.tables import LsTask
    from fpgrade.sync.client import connect
    from fpgrade.sync.config import result_of
    from fpgrade.sync.pull import OVERLAP, pull_project

    print(f"{size} annotations: creating the project through the API", file=sys.stderr)
    setup_s, ls_project_id = _timed(lambda: make_project(client, size, files_root, registry))
    imported = time.monotonic()
    with database.read_session() as session:
        task_ids = list(session.exec(select(LsTask.task_id).where(
            LsTask.ls_project_id == ls_project_id)).all())
    server = connect()
    counter = CountingTasks(server)

    def pull(full: bool = False):
        counter.count, counter.seconds = 0, 0.0
        with database.session() as session:
            seconds, report = _timed(lambda: pull_project(session, server, registry, ls_project_id,
                                                          full=full))
        waited.append(counter.seconds)
        return seconds, report, counter.count

    waited: list[float] = []

    first_s, first, first_requests = pull()
    assert first.added == size, f"first pull stored {first.added} of {size}"
    print(f"  first pull: {size} annotations in {first_s:.1f} s ({waited[-1]:.1f} s waiting for "
          "Label Studio)", file=sys.stderr)
    time.sleep(max(0.0, OVERLAP.total_seconds() + 1 - (time.monotonic() - imported)))
    scale = registry.scale("sided7")
    rng = random.Random(size + 1)
    times, requests, reread = [], [], []
    for round_ in range(rounds + 1):  # round 0 warms up
        for task_id in rng.sample(task_ids, new):
            client.annotations.create(id=task_id, result=result_of(scale, rng.choice(scale.codes), "image"))
        seconds, report, sent = pull()
        assert report.added == new, f"round {round_}: pulled {report.added} of {new} new annotations"
        if round_:
            times.append(seconds)
            requests.append(sent)
            reread.append(report.unchanged)
            print(f"  {new} new: {seconds:.2f} s ({waited[-1]:.2f} s waiting for Label Studio), "
                  f"{sent} requests, {report.unchanged} re-read", file=sys.stderr)
    full_s, full, full_requests = pull(full=True)
    assert full.added == 0
    print(f"  --full: {full_s:.1f} s ({waited[-1]:.1f} s waiting for Label Studio), "
          f"{full_requests} requests", file=sys.stderr)
    return {"annotations": size, "setup_s": round(setup_s, 1), "first_pull_s": round(first_s, 2),
            "first_pull_requests": first_requests, "new": new,
            "incremental_pull_s": [round(t, 3) for t in times],
            "incremental_pull_median_s": round(statistics.median(times), 3),
            "incremental_requests": requests, "reread_unchanged": reread,
            "full_pull_s": round(full_s, 2), "full_pull_requests": full_requests,
            "waiting_for_label_studio_s": [round(w, 3) for w in waited]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--new", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from bench.machine import describe
    from tests.labelstudio_server import labelstudio_server

    with tempfile.TemporaryDirectory(prefix="fpgrade-pull-bench-") as tmp:
        tmp = Path(tmp)
        (tmp / "ls").mkdir()
        (tmp / "files").mkdir()
        os.environ["FPGRADE_DATABASE_URL"] = f"sqlite:///{tmp / 'fpgrade.db'}"
        os.environ["FPGRADE_DATA_DIR"] = str(tmp / "data")
        print("starting Label Studio (first start: about a minute of migrations)", file=sys.stderr)
        with labelstudio_server(tmp / "ls", tmp / "files") as ls:
            os.environ["FPGRADE_LABEL_STUDIO_URL"] = ls.url
            os.environ["FPGRADE_LABEL_STUDIO_TOKEN"] = ls.token
            from label_studio_sdk import LabelStudio

            from fpgrade.registry import get_registry
            from fpgrade.settings import get_settings
            from fpgrade.storage import database

            get_settings.cache_clear()
            database.upgrade()
            client = LabelStudio(base_url=ls.url, api_key=ls.token, timeout=300)
            rows = [measure(size, args.new, args.rounds, client, tmp / "files", get_registry())
                    for size in args.sizes]
    print(f"\nMachine: {describe()}\n")
    print(f"| annotations in the project | first pull | pull of {args.new} new (median) | requests | "
          "annotations re-read | --full pull | --full requests |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['annotations']} | {r['first_pull_s']:.1f} s | {r['incremental_pull_median_s']:.2f} s "
              f"| {statistics.median(r['incremental_requests']):.0f} | "
              f"{statistics.median(r['reread_unchanged']):.0f} | {r['full_pull_s']:.1f} s | "
              f"{r['full_pull_requests']} |")
    if args.json:
        args.json.write_text(json.dumps({"machine": describe(), "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
