"""One writer per run folder: ``fpgrade train`` and ``fpgrade retrain`` hold ``RUN/.fpgrade.lock``.

Two processes writing one ``--out`` at once would leave the folder with one run's weights and
the database with the other's seed and metrics. The lock is an operating-system file lock
(filelock: ``flock`` on POSIX), so it is released when its process ends, however it ends: a
killed run never leaves a stale lock behind, and ``--resume`` takes it again. A second process
is refused at once, in one line. A folder the lock created is removed again when the run
wrote nothing in it. Under torchrun only rank 0 takes it (the ranks of one launch
are one writer). Re-entrant within a process (a retrain holds it while its training runs).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from fpgrade.errors import TrainingError

LOCK_NAME = ".fpgrade.lock"
_held: dict[Path, int] = {}


@contextmanager
def run_lock(out: Path) -> Iterator[None]:
    """Hold the writer's lock of run folder ``out`` (created if missing), or refuse."""
    out = Path(out).resolve()
    if out in _held:
        _held[out] += 1
        try:
            yield
        finally:
            _held[out] -= 1
        return
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TrainingError(f"{out}: cannot create the run folder ({exc.strerror or exc})") from exc
    lock = FileLock(out / LOCK_NAME, timeout=0, is_singleton=False)
    try:
        lock.acquire()
    except Timeout:
        raise TrainingError(f"{out}: another fpgrade process is writing a run there; wait for it to "
                            "finish (or stop it), or choose another --out") from None
    _held[out] = 1
    try:
        yield
    finally:
        del _held[out]
        lock.release()
        if created and [p.name for p in out.iterdir()] == [LOCK_NAME]:  # a run that wrote nothing
            (out / LOCK_NAME).unlink(missing_ok=True)
            out.rmdir()
