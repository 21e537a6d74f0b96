"""``fpgrade sync serve``'s webhook: defensive validation (4xx, nothing queued), a queued pull,
and a retrain started past the threshold, never inside the request (issue 12, part f)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

import pytest

from fpgrade.sync.webhook import Hub, make_server


@pytest.fixture
def webhook():
    pulls, retrains, in_request = [], [], []
    gate = threading.Event()

    def pull(project_id):
        gate.wait(5)  # a slow pull: the request must not wait for it
        pulls.append(project_id)

    class Process:
        def poll(self):
            return None  # still running: no second retrain starts meanwhile

    hub = Hub(known_projects=lambda: {7}, pull=pull, due=lambda pid: "sided7",
              start_retrain=lambda scale: retrains.append(scale) or Process())
    server = make_server(hub, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop = threading.Event()
    threading.Thread(target=hub.run_worker, args=(stop,), daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"

    def post(body) -> tuple[int, dict]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    yield post, hub, pulls, retrains, gate, in_request
    stop.set()
    gate.set()
    server.shutdown()
    server.server_close()


EVENT = {"action": "ANNOTATION_CREATED", "project": {"id": 7}, "annotation": {"id": 1}, "task": {"id": 3}}


@pytest.mark.parametrize(("body", "status", "words"), [
    (b"{not json", 400, "not JSON"),
    (b"\xff\xfe", 400, "not JSON"),
    ([1, 2], 422, "not a JSON object"),
    ({"project": {"id": 7}}, 422, "missing field 'action'"),
    ({"action": "PROJECT_CREATED", "project": {"id": 7}}, 422, "is not one of"),
    ({"action": "ANNOTATION_CREATED", "project": {}}, 422, "project.id"),
    ({"action": "ANNOTATION_CREATED", "project": {"id": "7"}, "annotation": {}}, 422, "project.id"),
    ({"action": "ANNOTATION_UPDATED", "project": {"id": 7}}, 422, "missing field 'annotation'"),
    ({**EVENT, "project": {"id": 8}}, 404, "never pushed"),
])
def test_bad_events_are_refused_and_queue_nothing(webhook, body, status, words):
    post, hub, pulls, retrains, gate, _ = webhook
    code, answer = post(body)
    assert code == status and words in answer["message"]
    gate.set()
    time.sleep(0.3)
    assert pulls == [] and retrains == [] and hub.pulls_done == 0


def test_an_event_queues_a_pull_answered_at_once_and_retrains_in_the_background(webhook):
    post, hub, pulls, retrains, gate, _ = webhook
    started = time.monotonic()
    assert post(EVENT)[0] == 202
    assert post({**EVENT, "action": "ANNOTATION_UPDATED"})[0] == 202
    assert time.monotonic() - started < 2  # the slow pull runs in the worker, not the request
    assert pulls == []
    gate.set()
    deadline = time.monotonic() + 5
    while hub.pulls_done < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    hub.join()
    assert pulls[0] == 7 and len(pulls) <= 2  # events of one project coalesce while queued
    assert retrains == ["sided7"]  # past the threshold: one retrain started
    assert post(EVENT)[0] == 202
    hub.join()
    assert retrains == ["sided7"]  # the first is still running: no second one


def test_a_failing_pull_is_recorded_and_the_worker_goes_on():
    calls = []

    def pull(pid):
        calls.append(pid)
        if len(calls) == 1:
            raise RuntimeError("Label Studio at http://x is not reachable")

    hub = Hub(known_projects=lambda: {1}, pull=pull, due=lambda pid: None, start_retrain=None)
    hub.enqueue(1)
    assert hub.work_once(timeout=1)
    hub.enqueue(1)
    assert hub.work_once(timeout=1)
    assert calls == [1, 1] and "not reachable" in hub.errors[0] and hub.pulls_done == 1


def _state(pid: int) -> str | None:
    """The process state letter of ``pid`` (``Z``: a zombie), None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def test_a_finished_retrain_is_reaped_without_waiting_for_the_next_webhook():
    import subprocess
    import sys

    started, finished = [], []
    release = threading.Event()

    def start_retrain(scale):
        process = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                                   stdin=subprocess.PIPE)  # ends when told (stdin closed)
        started.append(process)
        return process

    hub = Hub(known_projects=lambda: {1}, pull=lambda pid: None, due=lambda pid: "sided7",
              start_retrain=start_retrain,
              on_finished=lambda process, code: (finished.append((process.pid, code)),
                                                 release.set()))
    stop = threading.Event()
    worker = threading.Thread(target=hub.run_worker, args=(stop,), daemon=True)
    worker.start()
    try:
        hub.enqueue(1)
        hub.join()
        (process,) = started
        assert _state(process.pid) not in (None, "Z")  # running
        process.stdin.close()  # the retrain ends; no webhook comes after it
        assert release.wait(60), "the finished retrain was not collected"
        assert finished == [(process.pid, 0)]
        assert _state(process.pid) is None  # reaped: no zombie left
    finally:
        stop.set()
        worker.join(timeout=5)
        for process in started:
            if process.poll() is None:
                process.kill()
                process.wait()
