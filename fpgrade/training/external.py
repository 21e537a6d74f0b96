"""A run's models on an external labelled set (``fpgrade evaluate RUN --data MANIFEST`` where
none of the set's subjects is one of the run's).

Every sample of the set is graded by each fold's best weights and by the *fold ensemble*: the
mean of the fold models' class probabilities (soft voting), the usual way a cross-validated model
is applied to new data. The ensemble is the headline figure; each fold model's figures, with
their mean and sample std (ddof=1), show how much the folds differ. The same metrics as a run's
test (:func:`fpgrade.training.metrics.compute_metrics`), written to ``RUN/external_<name>.json``
(name: the manifest's file name without ``.csv``; ``db`` for the database), the predictions to
``RUN/external_<name>_predictions.csv`` (the columns of :mod:`fpgrade.training.oof`; ``fold`` is
the fold model's index, ``ensemble`` for the ensemble, whose ``model_version`` lists the fold
versions joined by ``+``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from fpgrade.files import write_json
from fpgrade.training import oof
from fpgrade.training.metrics import compute_metrics
from fpgrade.training.summary import summarise

COMBINED = "fold ensemble: the mean of the fold models' class probabilities"


def external_name(source: str) -> str:
    if source == "db" or "://" in source:
        return "db" if source == "db" else "database"
    stem = Path(source).name.removesuffix(".csv")
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", stem) or "data"


def evaluate_external(run_dir: Path, info: dict, folds: list, model, scale, prepared, records,
                      config, source_shown: str, source: str) -> dict:
    from fpgrade.models.versions import version_name
    from fpgrade.training.engine import Trainer
    from fpgrade.training.run import predict_items

    items = prepared.items
    truth = [scale.index(item.label) for item in items]
    subjects = [item.subject for item in items]
    visits = [item.visit for item in items]
    synthetic = bool(info.get("synthetic")) or any(r.synthetic for r in records)
    seed = info.get("seed", 0)
    fold_metrics, all_probabilities, rows, versions = [], [], [], []
    for index in range(len(folds)):
        trainer = Trainer(model, scale, run_dir / f"fold_{index}", config)
        probabilities, sha256 = predict_items(trainer, run_dir / f"fold_{index}" / "best.safetensors", items)
        version = version_name(model.card.id, sha256)
        metrics = compute_metrics(truth, probabilities, scale, subjects=subjects, visits=visits)
        metrics.update(fold=index, model_version=version)
        fold_metrics.append(metrics)
        all_probabilities.append(np.asarray(probabilities, dtype=np.float64))
        versions.append(version)
        rows += oof.fold_rows(index, items, records, probabilities, scale, model=model.card.id,
                              model_version=version, seed=seed, synthetic=synthetic)
    ensemble_p = np.mean(all_probabilities, axis=0)
    ensemble = compute_metrics(truth, ensemble_p, scale, subjects=subjects, visits=visits)
    for row in oof.fold_rows(0, items, records, ensemble_p, scale, model=model.card.id,
                             model_version="+".join(versions), seed=seed, synthetic=synthetic):
        rows.append({**row, "fold": "ensemble"})
    name = external_name(source)
    result = {
        "mode": "external", "model": model.card.id, "scale": scale.id, "protocol": info.get("protocol"),
        "data": source_shown, "synthetic": synthetic, "combined": COMBINED,
        "samples": len(items), "subjects": len(set(subjects)),
        "skipped_records": len(prepared.failures), "ensemble": ensemble,
        "fold_models": summarise(fold_metrics),
        "predictions": f"external_{name}_predictions.csv",
    }
    oof.write_rows(run_dir / result["predictions"], rows, scale)
    write_json(run_dir / f"external_{name}.json", result)
    result["written"] = str(run_dir / f"external_{name}.json")
    return result
