"""Many files in one process: the inputs a command was given, and a pool of worker processes.

:func:`collect_inputs` turns files, folders (walked recursively) and manifests (a text file of
paths, one a line, or a CSV with a ``path`` column; relative paths are relative to the
manifest's folder) into one ordered list of files, each once. :func:`run_pool` runs a task
(a module-level function, so that it can be sent to another process) over them in a
:class:`concurrent.futures.ProcessPoolExecutor` (``spawn``: MediaPipe's threads do not survive
``fork``), each worker keeping what it loads (MediaPipe graphs, a model) for all its files, with a
rich progress bar (count, rate, ETA) on stderr. A file that fails is an :class:`Outcome` with an
``error``: the run goes on. One worker runs in this process (no start-up cost for one file).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: File name endings taken from a folder (a file named on the command line is always taken).
PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".avi", ".mkv", ".m4v", ".webm", ".mpg", ".mpeg"})
MEDIA_SUFFIXES = PHOTO_SUFFIXES | VIDEO_SUFFIXES
#: A file with one of these endings given on the command line is a list of files to process.
MANIFEST_SUFFIXES = frozenset({".txt", ".lst", ".csv", ".tsv"})


@dataclass
class Outcome:
    """What a task made of one file: a ``result`` (and table ``rows``), or an ``error`` line
    naming the file; ``warnings`` raised on the way, as lines."""

    path: str
    result: dict[str, Any] | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


def error_line(path: str | Path, exc: BaseException) -> str:
    """One line naming the file and the problem (the file is named once)."""
    text = str(exc).strip() or type(exc).__name__
    return text if str(path) in text else f"{path}: {text}"


def _manifest_paths(manifest: Path) -> list[Path]:
    text = manifest.read_text(encoding="utf-8-sig", errors="replace")
    base = manifest.parent
    if manifest.suffix.lower() in (".csv", ".tsv"):
        dialect = "excel-tab" if manifest.suffix.lower() == ".tsv" else "excel"
        reader = csv.DictReader(text.splitlines(), dialect=dialect)
        if not reader.fieldnames or "path" not in reader.fieldnames:
            raise ValueError(f"{manifest}: a manifest CSV needs a 'path' column "
                             f"(found: {', '.join(reader.fieldnames or []) or 'no header'})")
        names = [row["path"] for row in reader]
    else:
        names = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    return [base / Path(name.strip()).expanduser() for name in names if name and name.strip()]


def _folder_files(folder: Path) -> list[Path]:
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [Path(root) / name for name in sorted(files)
                  if not name.startswith(".") and Path(name).suffix.lower() in MEDIA_SUFFIXES]
    return found


def collect_inputs(inputs: Iterable[Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """The files to process, in order, each once, and ``(input, reason)`` for the inputs that
    cannot be used (missing, a manifest that cannot be read, a folder without photos or videos)."""
    files: list[Path] = []
    problems: list[tuple[str, str]] = []
    for given in inputs:
        given = Path(given)
        if given.is_dir():
            found = _folder_files(given)
            if not found:
                problems.append((str(given), f"{given}: no photo or video in this folder (looked "
                                 f"for {', '.join(sorted(MEDIA_SUFFIXES))}, in sub-folders too)"))
            files += found
        elif given.is_file() and given.suffix.lower() in MANIFEST_SUFFIXES:
            try:
                files += _manifest_paths(given)
            except (OSError, ValueError) as exc:
                problems.append((str(given), error_line(given, exc)))
        elif given.exists():
            files.append(given)
        else:
            problems.append((str(given), f"{given}: file not found"))
    seen: set[Path] = set()
    unique = []
    for path in files:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique, problems


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` (1 <= I <= N) as ``(I, N)``: this machine takes files I, I+N, I+2N... of the
    ordered list (every machine must be given the same inputs); refused in one line otherwise."""
    from fpgrade.errors import FpgradeError

    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise FpgradeError(f"--shard {text}: expected I/N, e.g. 1/4 for the first of 4 machines") from None
    if not 1 <= index <= count:
        raise FpgradeError(f"--shard {text}: I must be between 1 and N, e.g. 1/4 ... 4/4")
    return index, count


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _progress():
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn,
                               TextColumn, TimeElapsedColumn, TimeRemainingColumn)
    from rich.text import Text

    from fpgrade.cli.console import err_console

    class RateColumn(ProgressColumn):
        def render(self, task) -> Text:
            elapsed = task.elapsed or 0.0
            rate = task.completed / elapsed if elapsed > 0 and task.completed else None
            return Text("" if rate is None else f"{rate:.2f} files/s")

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    RateColumn(), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                    console=err_console)


def _in_process(task: Callable[..., Outcome], paths: list[Path], args: tuple) -> Iterator[Outcome]:
    for path in paths:
        yield task(str(path), *args)


def _pooled(task: Callable[..., Outcome], paths: list[Path], args: tuple,
            workers: int) -> Iterator[Outcome]:
    import multiprocessing

    pending: dict[Future, str] = {}
    todo = iter(paths)
    with ProcessPoolExecutor(max_workers=workers,
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        try:
            while True:
                # A bounded window: tens of thousands of files do not all wait in the queue.
                for path in todo:
                    pending[pool.submit(task, str(path), *args)] = str(path)
                    if len(pending) >= 4 * workers:
                        break
                if not pending:
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    path = pending.pop(future)
                    try:
                        yield future.result()
                    except Exception as exc:  # the worker died (memory, a crash in native code)
                        yield Outcome(path, error=f"{path}: the worker process failed ({exc})")
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def run_pool(task: Callable[..., Outcome], paths: list[Path], args: tuple = (), *,
             workers: int = 1, description: str = "working",
             show_progress: bool = True) -> Iterator[tuple[Outcome, Any]]:
    """``task(path, *args)`` for every path, in ``workers`` processes, as they finish (not in
    order). Yields each outcome with the progress bar (or ``None``), whose ``console.print``
    writes above the bar."""
    workers = max(1, min(workers, len(paths)))
    outcomes = (_in_process(task, paths, args) if workers == 1
                else _pooled(task, paths, args, workers))
    if not show_progress:
        for outcome in outcomes:
            yield outcome, None
        return
    with _progress() as bar:
        progress = bar.add_task(description, total=len(paths))
        for outcome in outcomes:
            yield outcome, bar
            bar.advance(progress)
