"""The out-of-fold predictions of training runs, and the checks that make two runs comparable.

A run folder written by ``fpgrade train`` holds ``run.json`` (``scale``, ``model``, ``seed``,
``protocol``, ``synthetic``, ``classes``), ``splits.json`` (the folds' subjects) and
``predictions.csv``: one row per test sample of every fold, header first, columns::

    fold,subject,visit,medium_id,file,sha256,truth,truth_index,predicted,predicted_index,
    p_<class>... (the scale's order),model,model_version,seed,synthetic

A multi-seed run is a folder with ``seeds.json`` and one full run per seed in ``seed_<s>/``.

Runs are compared only on the same scale, the same folds (train, validation and test subjects of
every fold) and the same samples (same subject, visit and file, with the same truth): anything
else is refused in one line naming the runs. Samples are matched by subject, visit and file
content (``sha256``, else the file name), so runs read from a manifest and from the database
line up; the rows of every run are put in one order, the sorted sample keys.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fpgrade.errors import FpgradeError
from fpgrade.training.protocols import Fold, load_folds

REQUIRED = ("fold", "subject", "visit", "medium_id", "file", "sha256", "truth", "truth_index",
            "predicted", "predicted_index", "model", "model_version", "seed", "synthetic")
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no", "")


class ComparisonError(FpgradeError):
    """Runs that cannot be compared, or a run folder that cannot be read (one line)."""


@dataclass(frozen=True)
class Predictions:
    """The out-of-fold predictions of one run (or one seed of a multi-seed run), rows sorted by
    sample key."""

    folder: Path
    model: str
    seed: int | None
    scale: str
    protocol: str
    synthetic: bool
    classes: tuple[str, ...]
    folds: tuple[Fold, ...]
    keys: tuple[tuple[str, str, str, int], ...]
    subjects: np.ndarray
    visits: np.ndarray
    fold_of: np.ndarray
    truth: np.ndarray
    predicted: np.ndarray
    probabilities: np.ndarray
    versions: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.keys)


@dataclass
class Run:
    """A run folder: one set of predictions, or one per seed (``multi_seed``)."""

    folder: Path
    model: str
    scale: str
    seeds: list[Predictions] = field(default_factory=list)
    multi_seed: bool = False

    @property
    def synthetic(self) -> bool:
        return any(p.synthetic for p in self.seeds)


def _read_json(path: Path, what: str) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ComparisonError(f"{path.parent}: not a training run folder (no {path.name})") from None
    except (OSError, ValueError) as exc:
        raise ComparisonError(f"{path}: unreadable {what} ({exc})") from exc


def _flag(value: str, path: Path, line: int) -> bool:
    text = value.strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ComparisonError(f"{path}: line {line}: synthetic is {value!r}, expected true or false")


def load_predictions(folder: Path) -> Predictions:
    """The predictions of one (single-seed) run folder, checked against its ``run.json`` and
    ``splits.json``; a missing or malformed file is one line naming it."""
    folder = Path(folder).resolve()
    info = _read_json(folder / "run.json", "run description")
    for key in ("scale", "model", "protocol"):
        if key not in info:
            raise ComparisonError(f"{folder / 'run.json'}: no {key!r}")
    _, folds = load_folds(folder / "splits.json") if (folder / "splits.json").is_file() else (None, None)
    if folds is None:
        raise ComparisonError(f"{folder}: no splits.json (the folds' subjects)")
    path = folder / "predictions.csv"
    if not path.is_file():
        raise ComparisonError(f"{folder}: no predictions.csv (out-of-fold predictions); this run was "
                              "trained by a version of fpgrade that did not save them: train it again")
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header = list(reader.fieldnames or [])
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ComparisonError(f"{path}: unreadable ({exc})") from exc
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ComparisonError(f"{path}: missing column(s) {', '.join(missing)}")
    probability_columns = [c for c in header if c.startswith("p_")]
    listed = info.get("classes") or [c[2:] for c in probability_columns]
    classes = tuple(str(c["code"]) if isinstance(c, dict) else str(c) for c in listed)
    if probability_columns != [f"p_{c}" for c in classes]:
        raise ComparisonError(f"{path}: probability columns {', '.join(probability_columns)} are not "
                              f"p_<class> in the scale's order ({', '.join(classes)})")
    if not rows:
        raise ComparisonError(f"{path}: no predictions")
    n, k = len(rows), len(classes)
    truth, predicted = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    fold_of = np.empty(n, dtype=np.int64)
    probabilities = np.empty((n, k), dtype=np.float64)
    keys, synthetic, versions, seen = [], False, set(), Counter()
    for i, row in enumerate(rows):
        line = i + 2
        try:
            fold_of[i] = int(row["fold"])
            truth[i], predicted[i] = int(row["truth_index"]), int(row["predicted_index"])
            probabilities[i] = [float(row[c]) for c in probability_columns]
        except (TypeError, ValueError) as exc:
            raise ComparisonError(f"{path}: line {line}: not a number ({exc})") from None
        if not (0 <= truth[i] < k and 0 <= predicted[i] < k):
            raise ComparisonError(f"{path}: line {line}: class index outside 0..{k - 1}")
        if classes[truth[i]] != row["truth"] or classes[predicted[i]] != row["predicted"]:
            raise ComparisonError(f"{path}: line {line}: truth/predicted do not match their indices")
        if not np.all(np.isfinite(probabilities[i])) or abs(probabilities[i].sum() - 1) > 1e-3:
            raise ComparisonError(f"{path}: line {line}: the probabilities do not sum to 1")
        top = probabilities[i].max()
        if probabilities[i][predicted[i]] < top - 1e-9:  # the prediction is the most probable class
            raise ComparisonError(f"{path}: line {line}: predicted {row['predicted']} is not the most "
                                  "probable class")
        if not 0 <= fold_of[i] < len(folds) or row["subject"] not in folds[fold_of[i]].test:
            raise ComparisonError(f"{path}: line {line}: subject {row['subject']!r} is not a test "
                                  f"subject of fold {row['fold']} in splits.json")
        synthetic |= _flag(row["synthetic"], path, line)
        versions.add(row["model_version"])
        sample = row["sha256"] or row["file"]
        base = (row["subject"], row["visit"], sample)
        keys.append((*base, seen[base]))  # a file giving several samples: its n-th sample
        seen[base] += 1
    untested = sorted(set(range(len(folds))) - set(fold_of.tolist()))
    if untested:
        raise ComparisonError(f"{path}: fold(s) {', '.join(map(str, untested))} of {len(folds)} have no "
                              "predictions (a run not finished: `fpgrade train ... --resume`)")
    order = sorted(range(n), key=lambda j: keys[j])
    seed = info.get("seed")
    return Predictions(
        folder=folder, model=str(info["model"]), seed=None if seed is None else int(seed),
        scale=str(info["scale"]), protocol=str(info["protocol"]),
        synthetic=bool(info.get("synthetic")) or synthetic, classes=classes, folds=tuple(folds),
        keys=tuple(keys[j] for j in order),
        subjects=np.array([rows[j]["subject"] for j in order], dtype=object),
        visits=np.array([rows[j]["visit"] for j in order], dtype=object),
        fold_of=fold_of[order], truth=truth[order], predicted=predicted[order],
        probabilities=probabilities[order], versions=tuple(sorted(versions)))


def seed_folders(folder: Path) -> list[Path]:
    """The per-seed run folders of a multi-seed run, in its seeds' order: those ``seeds.json``
    names (``runs``: seed -> folder), else every ``seed_<s>/`` by seed; [] for a single run."""
    path = folder / "seeds.json"
    if not path.is_file():
        return []
    listed = _read_json(path, "seeds file").get("runs")
    if isinstance(listed, dict) and listed:
        found = [folder / str(name) for name in listed.values()]
        missing = [p.name for p in found if not p.is_dir()]
        if missing:
            raise ComparisonError(f"{path}: names seed folder(s) {', '.join(missing)}, not in {folder}")
        return found
    found = [p for p in folder.glob("seed_*") if p.is_dir() and p.name[5:].lstrip("-").isdigit()]
    if not found:
        raise ComparisonError(f"{folder}: seeds.json but no seed_<s> folder")
    return sorted(found, key=lambda p: int(p.name[5:]))


def load_run(folder: Path) -> Run:
    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise ComparisonError(f"{folder}: no such run folder")
    seeds = seed_folders(folder)
    sets = [load_predictions(p) for p in seeds] if seeds else [load_predictions(folder)]
    models = {p.model for p in sets}
    if len(models) > 1:
        raise ComparisonError(f"{folder}: its seeds hold different models ({', '.join(sorted(models))})")
    return Run(folder=folder, model=sets[0].model, scale=sets[0].scale, seeds=sets, multi_seed=bool(seeds))


def _fold_sets(folds) -> list[tuple[frozenset, frozenset, frozenset]]:
    return [(frozenset(f.train), frozenset(f.val), frozenset(f.test)) for f in folds]


def check_comparable(runs: list[Run]) -> None:
    """Refuse (one line naming the runs) runs of other scales, other folds or other samples."""
    if len(runs) < 2:
        raise ComparisonError("compare needs at least two runs")
    folders = [r.folder for r in runs]
    if len(set(folders)) < len(folders):
        twice = next(f for f in folders if folders.count(f) > 1)
        raise ComparisonError(f"{twice} is named twice")
    entries = [(run, p) for run in runs for p in run.seeds]
    first_run, first = entries[0]

    def name(run: Run, p: Predictions) -> str:
        return str(p.folder if run.multi_seed else run.folder)

    for run, p in entries[1:]:
        if p.scale != first.scale:
            raise ComparisonError(f"{name(first_run, first)} grades {first.scale} but {name(run, p)} grades "
                                  f"{p.scale}: runs are compared on one scale")
        if p.classes != first.classes:
            raise ComparisonError(f"{name(first_run, first)} and {name(run, p)} list the classes of "
                                  f"{p.scale} differently")
    for run, p in entries[1:]:
        ours, theirs = _fold_sets(first.folds), _fold_sets(p.folds)
        if ours != theirs:
            where = (f"{len(ours)} folds against {len(theirs)}" if len(ours) != len(theirs) else
                     "fold " + str(next(i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b)))
            raise ComparisonError(f"{name(first_run, first)} and {name(run, p)} were trained on different "
                                  f"splits ({where} differs): train them with --splits "
                                  f"{first.folder / 'splits.json'}")
    for run, p in entries[1:]:
        if p.keys != first.keys:
            only_first, only_p = sorted(set(first.keys) - set(p.keys)), sorted(set(p.keys) - set(first.keys))
            example = only_first[:1] or only_p[:1]
            if {k[:3] for k in first.keys} == {k[:3] for k in p.keys}:
                raise ComparisonError(
                    f"{name(first_run, first)} and {name(run, p)} make a different number of samples of "
                    f"the same files ({len(first)} and {len(p)}, e.g. subject {example[0][0]} file "
                    f"{example[0][2][:16]}: a video's frames against the whole video): paired "
                    "comparisons need models that make the same samples")
            raise ComparisonError(
                f"{name(first_run, first)} and {name(run, p)} were tested on different samples "
                f"({len(only_first)} only in the first, {len(only_p)} only in the second, e.g. subject "
                f"{example[0][0]} visit {example[0][1] or '-'} file {example[0][2][:16]}): paired "
                "comparisons need the same samples")
        if not np.array_equal(p.truth, first.truth):
            i = int(np.flatnonzero(p.truth != first.truth)[0])
            raise ComparisonError(f"{name(first_run, first)} and {name(run, p)} give subject "
                                  f"{first.keys[i][0]} different true grades "
                                  f"({first.classes[first.truth[i]]} and {p.classes[p.truth[i]]})")
