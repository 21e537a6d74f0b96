"""Run folders as ``fpgrade train`` writes them (``run.json``, ``splits.json``,
``predictions.csv`` in the out-of-fold format of issue 22), made from chosen predictions, so the
comparison can be tested without training."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np

HEAD = ["fold", "subject", "visit", "medium_id", "file", "sha256", "truth", "truth_index", "predicted",
        "predicted_index"]
TAIL = ["model", "model_version", "seed", "synthetic"]


def make_folds(subjects: list[str], k: int) -> list[dict]:
    """K folds: fold i tests subjects i, i+k, ...; validates the next fold's test subjects."""
    tests = [subjects[i::k] for i in range(k)]
    return [{"train": sorted(s for j, t in enumerate(tests) if j not in (i, (i + 1) % k) for s in t),
             "val": sorted(tests[(i + 1) % k]), "test": sorted(tests[i])} for i in range(k)]


def samples(subjects: int = 12, per_subject: int = 3, visits: int = 1, classes: int = 3,
            seed: int = 0) -> list[dict]:
    """Sample descriptions: subject, visit, file and a true class index (one grade per visit)."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(subjects):
        for v in range(visits):
            grade = int(rng.integers(classes))
            for i in range(per_subject):
                name = f"s{s:02d}/v{v}/img{i}.png"
                rows.append({"subject": f"s{s:02d}", "visit": f"visit {v + 1}" if visits > 1 else "",
                             "file": name, "sha256": hashlib.sha256(name.encode()).hexdigest(),
                             "truth_index": grade})
    return rows


def noisy_probabilities(truth: np.ndarray, classes: int, skill: float, seed: int) -> np.ndarray:
    """Probabilities that favour the truth by ``skill`` (0: random)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(len(truth), classes))
    logits[np.arange(len(truth)), truth] += skill
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


def write_run(folder: Path, rows: list[dict], probabilities: np.ndarray, *, model: str,
              codes: tuple[str, ...], scale: str, folds: list[dict], seed: int = 0,
              synthetic: bool = False, protocol: str = "kfold:3") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run.json").write_text(json.dumps({"model": model, "scale": scale, "seed": seed,
                                                 "protocol": protocol, "synthetic": synthetic,
                                                 "classes": list(codes)}))
    (folder / "splits.json").write_text(json.dumps({"protocol": protocol, "seed": seed, "folds": folds}))
    fold_of = {s: i for i, f in enumerate(folds) for s in f["test"]}
    with open(folder / "predictions.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*HEAD, *[f"p_{c}" for c in codes], *TAIL])
        for number, (row, p) in enumerate(zip(rows, probabilities)):
            fold = fold_of[row["subject"]]
            predicted = int(np.argmax(p))
            writer.writerow([fold, row["subject"], row["visit"], number + 1, row["file"], row["sha256"],
                             codes[row["truth_index"]], row["truth_index"], codes[predicted], predicted,
                             *[repr(float(x)) for x in p], model, f"{model}-fold{fold}", seed,
                             str(synthetic).lower()])
    return folder
