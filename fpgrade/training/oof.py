"""Out-of-fold predictions: one CSV row per test sample of every fold of a run.

Every subject is tested in exactly one fold, so the rows of all folds together are one prediction
per sample from a model that never saw that sample's subject: what a subject-clustered bootstrap,
McNemar's test or a permutation test between two models needs afterwards (``fpgrade compare``
reads them). Each fold writes ``fold_K/test_predictions.csv`` as it is tested (so a resumed or
``--fold`` run keeps the folds tested before), and the run gathers every tested fold's rows
into ``RUN/predictions.csv``.

The columns, in this order (a contract with ``fpgrade compare``; written with :mod:`csv`):

``fold, subject, visit, medium_id, file, sha256, truth, truth_index, predicted, predicted_index,
p_<label> (one per class, in the scale's order), model, model_version, seed, synthetic``

- ``truth`` / ``predicted``: the scale's labels; ``*_index``: their position in the scale;
- ``p_<label>``: the class probability as ``repr(float)`` (round-trips exactly, so metrics
  recomputed from the file equal the run's); ``predicted`` is the argmax, the first class on a tie
  (NumPy's ``argmax``, as the metrics use);
- ``visit``: the visit the medium was taken at, empty where the data names none; ``medium_id``:
  the database row of the medium, empty for a manifest; ``file``: the path as stored;
  ``sha256``: the file's (stored, or computed from the file), empty if the file cannot be read;
- ``model_version``: the registry's name of the fold's best weights (model id and the first 12
  hex digits of their sha256, :func:`fpgrade.models.versions.version_name`); ``seed``: the
  run's; ``synthetic``: ``true`` / ``false``, the run's SYNTHETIC mark.

A medium that yields several samples (the frames or clips of a video) gives several rows with
the same file.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fpgrade.errors import TrainingError
from fpgrade.files import replacing
from fpgrade.scales import GradingScale

FOLD_FILE = "test_predictions.csv"
RUN_FILE = "predictions.csv"
#: ``fpgrade evaluate``'s: the same rows from the run's own data (which rewrites ``RUN_FILE``),
#: from other data (``--data``) kept apart in ``EVALUATION_RUN_FILE``
EVALUATION_FILE = "evaluation_predictions.csv"
EVALUATION_RUN_FILE = "evaluation_predictions.csv"
HEAD = ("fold", "subject", "visit", "medium_id", "file", "sha256", "truth", "truth_index",
        "predicted", "predicted_index")
TAIL = ("model", "model_version", "seed", "synthetic")


def probability_column(label: str) -> str:
    return f"p_{label}"


def columns(scale: GradingScale) -> list[str]:
    return [*HEAD, *(probability_column(code) for code in scale.codes), *TAIL]


def _file_sha256(record) -> str:
    if record.sha256:
        return record.sha256
    from fpgrade.cache import default_cache

    try:
        return default_cache().file_sha256(record.path)
    except OSError:
        return ""


def fold_rows(fold: int, items: Sequence, records: Sequence, probabilities: np.ndarray,
              scale: GradingScale, *, model: str, model_version: str, seed: int,
              synthetic: bool) -> list[dict[str, str]]:
    """The rows of one fold's test samples; ``items[i].record`` indexes ``records``."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if len(probabilities) != len(items):
        raise TrainingError(f"fold {fold}: {len(probabilities)} predictions for {len(items)} samples")
    predicted = probabilities.argmax(axis=1)
    rows = []
    hashes: dict[int, str] = {}
    for item, row_p, guess in zip(items, probabilities, predicted):
        record = records[item.record]
        if item.record not in hashes:
            hashes[item.record] = _file_sha256(record)
        truth = scale.index(item.label)
        rows.append({
            "fold": str(fold), "subject": item.subject, "visit": record.visit or "",
            "medium_id": "" if record.media_id is None else str(record.media_id),
            "file": str(record.path), "sha256": hashes[item.record],
            "truth": scale.codes[truth], "truth_index": str(truth),
            "predicted": scale.codes[int(guess)], "predicted_index": str(int(guess)),
            **{probability_column(code): repr(float(p)) for code, p in zip(scale.codes, row_p)},
            "model": model, "model_version": model_version, "seed": str(seed),
            "synthetic": "true" if synthetic else "false",
        })
    return rows


def write_rows(path: Path, rows: Sequence[dict[str, str]], scale: GradingScale) -> None:
    """``rows`` as CSV at ``path`` (replaced atomically: a reader never sees half a file)."""
    with replacing(path) as temporary, open(temporary, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns(scale))
        writer.writeheader()
        writer.writerows(rows)


def read_rows(path: Path, scale: GradingScale | None = None) -> list[dict[str, str]]:
    """The rows of a predictions file; with ``scale``, its header is checked against the scale's."""
    try:
        with open(path, newline="") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            header = reader.fieldnames or []
    except OSError as exc:
        raise TrainingError(f"{path}: cannot read the predictions ({exc})") from exc
    if scale is not None and list(header) != columns(scale):
        raise TrainingError(f"{path}: not a predictions file of {scale.id} (columns {', '.join(header)})")
    return rows


def gather(run_dir: Path, folds: int, scale: GradingScale, name: str = FOLD_FILE,
           out_name: str = RUN_FILE) -> list[int]:
    """Every tested fold's rows (``fold_K/NAME``) into ``RUN/OUT_NAME``, in fold order. A fold
    not tested yet is left out; returns the folds tested (``test.json``) without their rows
    (tested by an fpgrade older than this file: ``fpgrade evaluate RUN`` writes them)."""
    rows: list[dict[str, str]] = []
    without = []
    for index in range(folds):
        folder = Path(run_dir) / f"fold_{index}"
        if (folder / name).is_file():
            rows += read_rows(folder / name, scale)
        elif (folder / "test.json").is_file():
            without.append(index)
    write_rows(Path(run_dir) / out_name, rows, scale)
    return without


def probabilities_of(rows: Sequence[dict[str, str]], scale: GradingScale) -> np.ndarray:
    """The probability columns of ``rows`` as an array (samples x classes)."""
    names = [probability_column(code) for code in scale.codes]
    return np.array([[float(row[name]) for name in names] for row in rows], dtype=np.float64)
