"""``fpgrade retrain``: new final labels into a new model version, never silently worse.

1. The current version of the scale (:func:`fpgrade.clinic.models.current_versions`) and the run
   that trained it give the saved subject-wise split of its fold.
2. The split stays fixed: its train, validation and test subjects keep their part. A subject new
   since then goes to test when ``int(sha256(pseudonym)) % TEST_EVERY == 0``, else to train, so
   reruns agree and a subject never changes part.
3. Training reads the final labels only (``--data db``); the data snapshot is their ids and hash.
   The network is fine-tuned from the current weights (same model; another ``--model`` starts
   from its own initialisation). CUDA with bf16 autocast when present, CPU otherwise; under
   ``torchrun`` every rank runs this and rank 0 records (the training engine's rules).
4. Old and new weights are evaluated on the same test subjects (the fixed split's test part,
   new test subjects included). The new version becomes current only if
   ``new[metric] >= old[metric] - margin``; otherwise it is kept as ``rejected`` with the reason
   and both sets of metrics.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import replace
from pathlib import Path

from fpgrade.errors import TrainingError
from fpgrade.registry import Registry
from fpgrade.training.engine import TrainConfig

TEST_EVERY = 5  # one new subject in five goes to test
METRICS = {"macro_f1": lambda m: m["macro"]["f1"], "accuracy": lambda m: m["accuracy"],
           "quadratic_weighted_kappa": lambda m: m.get("quadratic_weighted_kappa")}


def goes_to_test(pseudonym: str) -> bool:
    """The fixed rule for a subject not in the saved split."""
    return int(hashlib.sha256(pseudonym.encode()).hexdigest(), 16) % TEST_EVERY == 0


def decide(old: float | None, new: float | None, metric: str, margin: float) -> tuple[bool, str]:
    """Whether the new version may become current, and why (in words)."""
    if new is None:
        return False, f"the new version has no {metric} on the test subjects"
    if old is None:
        return True, f"the current version has no {metric} to compare with"
    if new >= old - margin:
        return True, f"{metric} {new:.4f} is not worse than the current {old:.4f} by more than {margin}"
    return False, f"{metric} {new:.4f} is worse than the current {old:.4f} by more than {margin}"


def _metric(name: str, metrics: dict) -> float | None:
    try:
        value = METRICS[name](metrics)
    except (KeyError, TypeError):
        return None
    return None if value is None else float(value)


def retrain(*, registry: Registry, scale_id: str, out: Path, config: TrainConfig,
            model_id: str | None = None, metric: str = "macro_f1", margin: float = 0.0,
            by: str = "retrain") -> dict:
    """Retrain ``scale_id`` into ``out``; returns what was decided (see the module docstring)."""
    from sqlmodel import select

    from fpgrade.clinic.models import current_versions
    from fpgrade.models import lifecycle
    from fpgrade.models.versions import version_name
    from fpgrade.media import sha256_file
    from fpgrade.storage import database
    from fpgrade.storage.retry import in_transaction
    from fpgrade.storage.tables import FinalLabel, ModelVersion, TrainingRun
    from fpgrade.training.data import load_records, prepare
    from fpgrade.training.engine import Trainer
    from fpgrade.training.protocols import Fold, load_folds, save_folds
    from fpgrade.training.run import _select, evaluate_items, train_run

    if metric not in METRICS:
        raise TrainingError(f"--metric {metric!r}: one of {', '.join(METRICS)}")
    scale = registry.scale(scale_id)
    info = current_versions([scale.id]).get(scale.id)
    if info is None or not info.model_id:
        raise TrainingError(f"no usable current version of {scale.id} to retrain from: train one "
                            f"first (fpgrade train ... --data db)")
    with database.read_session() as session:
        current = session.exec(select(ModelVersion).where(
            ModelVersion.model_id == info.model_id, ModelVersion.version == info.version)).one()
        run = session.get(TrainingRun, current.training_run_id) if current.training_run_id else None
        label_ids = sorted(session.exec(select(FinalLabel.id).where(FinalLabel.scale == scale.id)).all())
        current_id, current_weights = current.id, Path(current.weights_path)
    if run is None or not run.out_dir or not (Path(run.out_dir) / "splits.json").is_file():
        raise TrainingError(f"{info.version}: the run that trained it (and its splits.json) is not "
                            "recorded, so there is no fixed test split to compare on")
    _, folds = load_folds(Path(run.out_dir) / "splits.json")
    fold_index = int(current_weights.parent.name.removeprefix("fold_") or 0)
    old = folds[fold_index]
    model_id = model_id or info.model_id
    model = registry.model(model_id)

    records = load_records("db", scale, registry)
    subjects = sorted({r.subject for r in records.records})
    known = set(old.train) | set(old.val) | set(old.test)
    new_subjects = [s for s in subjects if s not in known]
    present = set(subjects)
    fold = Fold(train=[s for s in old.train if s in present]
                + [s for s in new_subjects if not goes_to_test(s)],
                val=[s for s in old.val if s in present],
                test=[s for s in old.test if s in present] + [s for s in new_subjects if goes_to_test(s)])
    if not fold.test:
        raise TrainingError(f"none of the saved test subjects of {info.version} has a final label now")
    with tempfile.TemporaryDirectory() as tmp:
        splits = Path(tmp) / "splits.json"
        save_folds(splits, "retrain", config.seed, [fold])
        init = str(current_weights) if model_id == info.model_id else None
        summary = train_run(registry=registry, model_id=model_id, data="db", protocol="retrain",
                            out=out, config=replace(config, init_weights=init), scale_id=scale.id,
                            splits=splits)
    if "rank" in summary:
        return summary
    new_weights = Path(out).resolve() / "fold_0" / "best.safetensors"
    new_name = version_name(model_id, sha256_file(new_weights))

    # old and new on the same test subjects
    prepared = prepare(records.records, model, registry, "Preprocessing the test subjects")
    test_items = _select(prepared.items, fold.test)
    # rank 0 alone from here: torchrun's process group ended with the training (train_run), and
    # joining a new one would wait forever for the ranks that have returned
    trainer = Trainer(model, scale, Path(out) / "comparison", replace(config, epochs=0), local=True)
    new_metrics = evaluate_items(trainer, new_weights, test_items)
    old_metrics = evaluate_items(Trainer(registry.model(info.model_id), scale, Path(out) / "comparison",
                                         replace(config, epochs=0), local=True),
                                 current_weights, test_items)
    old_value, new_value = _metric(metric, old_metrics), _metric(metric, new_metrics)
    promote, reason = decide(old_value, new_value, metric, margin)
    compact = {"old": {k: _metric(k, old_metrics) for k in METRICS},
               "new": {k: _metric(k, new_metrics) for k in METRICS},
               "metric": metric, "margin": margin, "test_subjects": fold.test,
               "new_subjects": new_subjects}
    (Path(out) / "comparison.json").write_text(json.dumps(compact, indent=2))

    with database.session() as session:
        def register() -> None:
            row = session.exec(select(ModelVersion).where(ModelVersion.model_id == model_id,
                                                          ModelVersion.version == new_name)).one()
            row.parent_version_id = current_id
            row.data_snapshot = label_ids
            row.data_snapshot_sha256 = lifecycle.snapshot_hash(label_ids)
            row.test_metrics = {**compact["new"], "samples": new_metrics.get("samples"),
                                "compared_with": info.version, "old": compact["old"]}
            session.add(row)

        in_transaction(session, register)
        if promote:
            lifecycle.promote(session, new_name, by=by, reason=reason)
        else:
            lifecycle.reject(session, new_name, by=by, reason=reason)
    return {"version": new_name, "status": "current" if promote else "rejected", "reason": reason,
            "replaces" if promote else "kept": info.version, **compact,
            "data_snapshot_sha256": lifecycle.snapshot_hash(label_ids), "final_labels": len(label_ids)}
