"""On-disk cache of preprocessing results, so training epochs and repeated demo requests never
redo face detection.

Key: sha256 of (file sha256, preprocessor id, its parameters as sorted JSON, fpgrade version). A
new fpgrade version or a changed parameter is a new key; nothing stale is ever read. Values are
dicts of numpy arrays in ``.npz`` files read with ``allow_pickle=False``: a cache file can hold
numbers, never code. Writes go to a temporary file renamed into place, so concurrent readers see
either the whole entry or none.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import fpgrade
from fpgrade.media import sha256_file
from fpgrade.settings import get_settings

Arrays = dict[str, np.ndarray]


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0


class PreprocessCache:
    """A folder of cached preprocessing results."""

    def __init__(self, root: Path, enabled: bool = True) -> None:
        self.root = Path(root)
        self.enabled = enabled
        self.stats = CacheStats()
        self._file_hashes: dict[tuple[str, int, int], str] = {}

    def file_sha256(self, path: Path) -> str:
        """The file's sha256, remembered per (path, size, mtime) for this process."""
        stat = os.stat(path)
        key = (str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)
        if key not in self._file_hashes:
            self._file_hashes[key] = sha256_file(Path(path))
        return self._file_hashes[key]

    @staticmethod
    def key(file_sha256: str, preprocessor_id: str, params: Mapping[str, Any]) -> str:
        payload = json.dumps([file_sha256, preprocessor_id, dict(params), fpgrade.__version__],
                             sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npz"

    def get(self, key: str) -> Arrays | None:
        if not self.enabled:
            return None
        try:
            with np.load(self._path(key), allow_pickle=False) as data:
                return {name: data[name] for name in data.files}
        except (OSError, ValueError):  # absent, or a damaged entry: recompute
            return None

    def put(self, key: str, arrays: Mapping[str, np.ndarray]) -> None:
        if not self.enabled:
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                np.savez(stream, **arrays)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get_or_compute(self, file_sha256: str, preprocessor_id: str, params: Mapping[str, Any],
                       compute: Callable[[], Mapping[str, np.ndarray]]) -> Arrays:
        key = self.key(file_sha256, preprocessor_id, params)
        cached = self.get(key)
        if cached is not None:
            self.stats.hits += 1
            return cached
        self.stats.misses += 1
        arrays = {name: np.asarray(value) for name, value in compute().items()}
        self.put(key, arrays)
        return arrays


_CACHES: dict[tuple[Path, bool], PreprocessCache] = {}


def default_cache() -> PreprocessCache:
    """The cache in the data folder (``FPGRADE_CACHE_ENABLED=false`` turns it off)."""
    settings = get_settings()
    key = (settings.cache_dir, settings.cache_enabled)
    if key not in _CACHES:
        _CACHES[key] = PreprocessCache(settings.cache_dir, settings.cache_enabled)
    return _CACHES[key]
