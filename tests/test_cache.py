"""The preprocessing cache: keys, misses and hits, damaged entries, no pickles."""

from __future__ import annotations

import numpy as np

from fpgrade.cache import PreprocessCache


def test_keys_depend_on_file_preprocessor_params_and_version(monkeypatch):
    key = PreprocessCache.key("a" * 64, "face_landmarks", {"window": 1.6})
    assert key == PreprocessCache.key("a" * 64, "face_landmarks", {"window": 1.6})
    assert key != PreprocessCache.key("b" * 64, "face_landmarks", {"window": 1.6})
    assert key != PreprocessCache.key("a" * 64, "face_crop_224", {"window": 1.6})
    assert key != PreprocessCache.key("a" * 64, "face_landmarks", {"window": 1.7})
    monkeypatch.setattr("fpgrade.__version__", "99.0")  # read when a key is made
    assert key != PreprocessCache.key("a" * 64, "face_landmarks", {"window": 1.6})


def test_get_or_compute_computes_once(tmp_path):
    cache = PreprocessCache(tmp_path)
    calls = []

    def compute():
        calls.append(1)
        return {"points": np.arange(6.0).reshape(3, 2)}

    first = cache.get_or_compute("f" * 64, "p", {}, compute)
    second = cache.get_or_compute("f" * 64, "p", {}, compute)
    assert len(calls) == 1 and (cache.stats.hits, cache.stats.misses) == (1, 1)
    np.testing.assert_array_equal(first["points"], second["points"])


def test_a_damaged_entry_is_recomputed(tmp_path):
    cache = PreprocessCache(tmp_path)
    cache.get_or_compute("f" * 64, "p", {}, lambda: {"x": np.ones(3)})
    (entry,) = tmp_path.rglob("*.npz")
    entry.write_bytes(b"garbage")
    again = cache.get_or_compute("f" * 64, "p", {}, lambda: {"x": np.zeros(3)})
    assert (again["x"] == 0).all()


def test_object_arrays_are_never_unpickled(tmp_path):
    cache = PreprocessCache(tmp_path)
    key = cache.key("f" * 64, "p", {})
    path = tmp_path / key[:2] / f"{key}.npz"
    path.parent.mkdir(parents=True)
    np.savez(path, evil=np.array([object()], dtype=object))
    assert cache.get(key) is None


def test_a_disabled_cache_stores_nothing(tmp_path):
    cache = PreprocessCache(tmp_path, enabled=False)
    cache.get_or_compute("f" * 64, "p", {}, lambda: {"x": np.ones(1)})
    assert not list(tmp_path.rglob("*.npz"))
