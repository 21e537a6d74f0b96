"""Evaluation protocols, all grouped by subject: no subject is ever in two of train, validation
and test (scikit-learn's group-aware splitters).

- ``kfold:K`` (paper 000: K=5; 001: K=10), K >= 2: StratifiedGroupKFold over subjects gives the
  test folds (plain KFold over subjects where a class has fewer than K subjects); of the other
  subjects, 1/(K-1) validate, at most a quarter and at least one (so ``kfold:2`` and
  ``kfold:3`` leave three quarters of the rest to train on), the others train;
- ``loso`` (paper 004): leave one subject out for testing, the next subject (in a seeded order)
  validates;
- ``split:A:B:C`` (paper 001: 7:2:1) and ``subject:A:B:C`` (paper 002: 4:1:1, i.e. 2/3, 1/6,
  1/6): one split of the subjects in those proportions, stratified by each subject's majority label
  where every class has enough subjects.

Splits are written to ``splits.json`` in the run folder and read back by a later run given
``--splits``, so a retrained model is compared on the same test subjects.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from sklearn.model_selection import KFold, StratifiedGroupKFold, train_test_split

from fpgrade.errors import TrainingError


@dataclass(frozen=True)
class Fold:
    train: list[str]
    val: list[str]
    test: list[str]


def _subject_labels(subjects: list[str], labels: list[str]) -> dict[str, str]:
    by_subject: dict[str, Counter] = {}
    for subject, label in zip(subjects, labels):
        by_subject.setdefault(subject, Counter())[label] += 1
    return {s: c.most_common(1)[0][0] for s, c in sorted(by_subject.items())}


def _split(subjects: list[str], strata: list[str], fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """Split subjects into (rest, part) with ``part`` about ``fraction`` of them (at least one)."""
    size = max(1, int(round(fraction * len(subjects))))
    if size >= len(subjects):
        raise TrainingError(f"too few subjects ({len(subjects)}) to split")
    counts = Counter(strata)
    stratify = strata if min(counts.values()) >= 2 and size >= len(counts) else None
    rest, part = train_test_split(subjects, test_size=size, random_state=seed, stratify=stratify)
    return sorted(rest), sorted(part)


def check_protocol(protocol: str) -> str:
    """``protocol`` if it is well formed (what :func:`make_folds` accepts, before any data is
    read; the number of subjects is checked by :func:`make_folds`), else one line saying why."""
    kind, _, args = protocol.partition(":")
    if kind == "kfold":
        try:
            k = int(args or 5)
        except ValueError:
            raise TrainingError(f"{protocol}: expected kfold:K with a whole number K >= 2, "
                                "e.g. kfold:5") from None
        if k < 2:
            raise TrainingError(f"{protocol}: K-fold cross-validation needs K >= 2 folds "
                                "(for one train/validation/test split use split:7:2:1)")
    elif kind in ("split", "subject"):
        try:
            parts = [float(x) for x in args.split(":")]
            if len(parts) != 3:
                raise ValueError
        except ValueError:
            raise TrainingError(f"{protocol}: expected {kind}:TRAIN:VAL:TEST, e.g. {kind}:7:2:1") from None
        if min(parts) <= 0:
            raise TrainingError(f"{protocol}: the three parts must all be above 0, e.g. {kind}:7:2:1")
    elif protocol != "loso":
        raise TrainingError(f"unknown protocol {protocol!r} (kfold:K, loso, split:A:B:C, subject:A:B:C)")
    return protocol


def make_folds(subjects: list[str], labels: list[str], protocol: str, seed: int = 0) -> list[Fold]:
    """Folds for ``protocol`` from per-sample ``subjects`` and ``labels``."""
    per_subject = _subject_labels(subjects, labels)
    names = list(per_subject)
    strata = [per_subject[s] for s in names]
    kind, _, args = check_protocol(protocol).partition(":")
    if kind == "kfold":
        k = int(args or 5)
        # each fold tests ~1/K of the subjects and needs two more: one to train, one to validate
        if len(names) < k + 2:
            raise TrainingError(f"{protocol}: needs at least {k + 2} subjects, found {len(names)}")
        if min(Counter(strata).values()) >= k:
            splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
        else:  # a class has fewer subjects than folds: plain K folds over subjects
            splitter = KFold(n_splits=k, shuffle=True, random_state=seed)
        folds = []
        groups = {"groups": names} if isinstance(splitter, StratifiedGroupKFold) else {}
        for train_idx, test_idx in splitter.split(np.zeros(len(names)), strata, **groups):
            rest = [names[i] for i in train_idx]
            train, val = _split(rest, [per_subject[s] for s in rest], min(1 / (k - 1), 0.25), seed)
            folds.append(Fold(train, val, sorted(names[i] for i in test_idx)))
        return folds
    if kind == "loso":
        if len(names) < 3:
            raise TrainingError(f"loso: needs at least 3 subjects, found {len(names)}")
        order = list(np.random.default_rng(seed).permutation(names))
        folds = []
        for i, test in enumerate(order):
            val = order[(i + 1) % len(order)]
            folds.append(Fold(sorted(s for s in names if s not in (test, val)), [val], [test]))
        return folds
    if kind in ("split", "subject"):
        a, b, c = (float(x) for x in args.split(":"))
        total = a + b + c
        rest, test = _split(names, strata, c / total, seed)
        train, val = _split(rest, [per_subject[s] for s in rest], b / (a + b), seed)
        return [Fold(train, val, test)]
    raise AssertionError(kind)   # check_protocol refused every other kind


def save_folds(path: Path, protocol: str, seed: int, folds: list[Fold]) -> None:
    path.write_text(json.dumps({"protocol": protocol, "seed": seed,
                                "folds": [asdict(f) for f in folds]}, indent=2))


def load_folds(path: Path) -> tuple[str, list[Fold]]:
    try:
        data = json.loads(Path(path).read_text())
        return data["protocol"], [Fold(**f) for f in data["folds"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TrainingError(f"{path}: not a splits file ({exc})") from exc
