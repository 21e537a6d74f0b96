"""Files written whole or not at all.

A run killed while it writes (a checkpoint, a test result, a run description) must leave the
previous version of the file, never half of a new one: :func:`replacing` hands out a temporary
path beside the target and moves it over the target (``os.replace``, atomic on POSIX and Windows)
only once it is complete.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """``with replacing(p) as tmp: write(tmp)``: ``p`` is replaced by ``tmp`` if the block ends
    without an error; otherwise ``tmp`` is removed and ``p`` is untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    with replacing(path) as temporary:
        temporary.write_text(text)


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, default=str))
