"""``fpgrade retrain``: new final labels into a new model version, never silently worse.

0. At its first start a retrain writes its plan, ``RUN/retrain.json``
   (:mod:`fpgrade.training.retrain_plan`): the current version it fine-tunes from, the options,
   the fixed split of steps 1-2 and the data snapshot of step 3. ``--out`` must be a new folder.
1. The current version of the scale (:func:`fpgrade.models.current.current_versions`) and the run
   that trained it give the saved subject-wise split of its fold.
2. The split stays fixed: its train, validation and test subjects keep their part. A subject new
   since then goes to test when ``int(sha256(pseudonym)) % TEST_EVERY == 0``, else to train, so
   reruns agree and a subject never changes part.
3. Training reads the final labels only (``--data db``); the data snapshot is the ids of those
   used (and their hash), and training reads exactly those, also when resumed.
   The network is fine-tuned from the current weights (same model; another ``--model`` starts
   from its own initialisation). CUDA with bf16 autocast when present, CPU otherwise; under
   ``torchrun`` every rank runs this and rank 0 records (the training engine's rules).
4. Old and new weights are evaluated on the same test subjects (the fixed split's test part,
   new test subjects included). The new version passes if ``new[metric] >= old[metric] -
   margin``; otherwise it is kept as ``rejected`` with the reason and both sets of metrics
   (``RUN/comparison.json``, with the decision). One that passes stays a ``candidate`` until a
   person promotes it (``fpgrade models promote``), unless the group opted in to automatic
   promotion (``--auto-promote --min-test-samples N --min-metric X``,
   :mod:`fpgrade.models.promotion`: never for test metrics at chance).
5. Registering the new version (its run, weights, parent, snapshot, metrics) and deciding about
   it are one database transaction: until it commits, the new weights are in no table, so a
   retrain that did not finish can never serve; the transaction also refuses if another version
   became current meanwhile. The run folder is held by one process (:mod:`fpgrade.training.lock`).

``--resume`` (same ``--out``, same options) finishes a retrain killed at any point: training
continues from its checkpoint, the comparison is reused once written, and a retrain whose
decision was committed just reports it. It refuses, in one line, other options, a current version
that is no longer the one in the plan (another promotion or a rollback: the comparison would be
against another model; start a new retrain) and a snapshot whose final labels were deleted or
changed. Final labels added since the first start are NOT used: they belong to the next retrain.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from contextlib import nullcontext
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from fpgrade.errors import TrainingError
from fpgrade.files import write_json
from fpgrade.registry import Registry
from fpgrade.training.engine import TrainConfig
from fpgrade.training.selection import GETTERS
from fpgrade.training.retrain_plan import (PLAN, Plan, check_options, check_parent, check_records,
                                           load_plan, records_hash, save_plan)

TEST_EVERY = 5  # one new subject in five goes to test
#: what --metric compares (higher is better), read as ``train --select-metric`` reads them
METRICS = {name: GETTERS[name] for name in ("macro_f1", "accuracy", "quadratic_weighted_kappa")}


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


def make_plan(registry: Registry, scale, asked: dict):
    """The plan of a new retrain (steps 1-3 of the module docstring) and the snapshot's records."""
    from sqlmodel import select

    from fpgrade.models.current import current_versions
    from fpgrade.models.lifecycle import snapshot_hash
    from fpgrade.storage import database
    from fpgrade.storage.tables import ModelVersion, TrainingRun
    from fpgrade.training.data import load_records
    from fpgrade.training.protocols import Fold, load_folds

    info = current_versions([scale.id]).get(scale.id)
    if info is None or not info.model_id:
        raise TrainingError(f"no usable current version of {scale.id} to retrain from: train one "
                            f"first (fpgrade train ... --data db)")
    with database.read_session() as session:
        current = session.exec(select(ModelVersion).where(
            ModelVersion.model_id == info.model_id, ModelVersion.version == info.version)).one()
        run = session.get(TrainingRun, current.training_run_id) if current.training_run_id else None
        current_id, current_weights = current.id, Path(current.weights_path)
    if run is None or not run.out_dir or not (Path(run.out_dir) / "splits.json").is_file():
        raise TrainingError(f"{info.version}: the run that trained it (and its splits.json) is not "
                            "recorded, so there is no fixed test split to compare on")
    _, folds = load_folds(Path(run.out_dir) / "splits.json")
    old = folds[int(current_weights.parent.name.removeprefix("fold_") or 0)]
    model_id = asked["model"] or info.model_id
    registry.model(model_id)

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
    label_ids = sorted(r.final_label_id for r in records.records)
    plan = Plan(parent=info.version, parent_id=current_id, parent_model=info.model_id,
                parent_weights=str(current_weights), **{**asked, "model": model_id},
                split={"train": fold.train, "val": fold.val, "test": fold.test},
                new_subjects=new_subjects, final_label_ids=label_ids,
                final_labels_sha256=snapshot_hash(label_ids), records_sha256=records_hash(records.records),
                started=datetime.now(timezone.utc).isoformat())
    return plan, records


def compare(registry: Registry, plan: Plan, records, out: Path, config: TrainConfig) -> dict:
    """Old and new weights on the plan's test subjects, and the decision (``comparison.json``;
    one already written for these new weights is reused)."""
    from fpgrade.media import sha256_file
    from fpgrade.models.current import summarise_test
    from fpgrade.models.promotion import auto_promotion, decide_promotion
    from fpgrade.training.data import prepare
    from fpgrade.training.engine import Trainer
    from fpgrade.training.run import _select, evaluate_items

    new_weights = out / "fold_0" / "best.safetensors"
    digest = sha256_file(new_weights)
    path = out / "comparison.json"
    if path.is_file():
        try:
            saved = json.loads(path.read_text())
        except ValueError:
            saved = {}
        if saved.get("new_weights_sha256") == digest:
            return saved
    scale = registry.scale(plan.scale)
    test = set(plan.fold.test)
    test_records = [r for r in records.records if r.subject in test]
    metrics, inputs = {}, {}
    for which, model_id, weights in (("new", plan.model, new_weights),
                                     ("old", plan.parent_model, Path(plan.parent_weights))):
        model = registry.model(model_id)
        if model_id not in inputs:  # each model's own inputs, prepared once
            inputs[model_id] = prepare(test_records, model, registry,
                                       f"Preprocessing the test subjects for {model_id}").items
        # rank 0 alone from here: torchrun's process group ended with the training (train_run),
        # and joining a new one would wait forever for the ranks that have returned
        trainer = Trainer(model, scale, out / "comparison", replace(config, epochs=0, resume=False),
                          local=True)
        metrics[which] = evaluate_items(trainer, weights, _select(inputs[model_id], plan.fold.test))
    value = _metric(plan.metric, metrics["new"])
    passes, reason = decide(_metric(plan.metric, metrics["old"]), value, plan.metric, plan.margin)
    new_test = summarise_test(metrics["new"])
    promote = False
    if passes:
        policy = auto_promotion(plan.auto_promote, plan.min_test_samples, plan.min_metric)
        promote, why = decide_promotion(policy, plan.metric, value, new_test)
        reason = f"{reason}; {why}"
    comparison = {"old": {k: _metric(k, metrics["old"]) for k in METRICS},
                  "new": {k: _metric(k, metrics["new"]) for k in METRICS}, "new_test": new_test,
                  "new_samples": metrics["new"].get("samples"), "new_weights_sha256": digest,
                  "metric": plan.metric, "margin": plan.margin, "test_subjects": plan.fold.test,
                  "new_subjects": plan.new_subjects, "passes": passes, "promote": promote,
                  "reason": reason}
    write_json(path, comparison)
    return comparison


def register(plan: Plan, out: Path, comparison: dict, by: str) -> str:
    """Register the new version and promote or reject it: one transaction (module docstring, 5)."""
    from fpgrade.models import lifecycle
    from fpgrade.storage import database
    from fpgrade.storage.retry import in_transaction
    from fpgrade.storage.tables import ModelVersion
    from fpgrade.training.records import run_weights, write_run_records

    run_info = json.loads((out / "run.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    weights = run_weights(out)
    with database.session() as session:
        def work() -> str:
            now = lifecycle.current_of(session, plan.scale)
            if now is not None and now.id != plan.parent_id:
                raise TrainingError(f"{out}: {now.version} became the current version of {plan.scale} "
                                    f"while this retrain of {plan.parent} ran; start a new retrain "
                                    "with another --out")
            parent = session.get(ModelVersion, plan.parent_id)
            if now is None and parent is not None and parent.status in (lifecycle.RETIRED,
                                                                        lifecycle.REJECTED):
                raise TrainingError(f"{out}: {plan.parent} was {parent.status} while this retrain "
                                    "ran (it no longer serves); start a new retrain with another --out")
            (row,) = write_run_records(session, run_info, summary, out, plan.model, plan.scale, weights)
            row.parent_version_id = plan.parent_id
            row.data_snapshot = plan.final_label_ids
            row.data_snapshot_sha256 = plan.final_labels_sha256
            row.test_metrics = {**comparison.get("new_test", {}), **comparison["new"],
                                "samples": comparison["new_samples"],
                                "compared_with": plan.parent, "old": comparison["old"]}
            session.add(row)
            if comparison["promote"]:
                lifecycle.promote_row(session, row, by=by, reason=comparison["reason"])
            elif comparison.get("passes", False):  # a candidate: a person promotes it
                lifecycle.keep_candidate(session, row, by=by, reason=comparison["reason"])
            else:
                lifecycle.reject_row(session, row, by=by, reason=comparison["reason"])
            return row.version

        return in_transaction(session, work)


def decided(out: Path) -> tuple[str, str] | None:
    """(version, its status now) that a retrain in ``out`` registered with its decision, or
    None: the run record of the folder points at it (identical weights made elsewhere share the
    version row, not the run)."""
    from sqlmodel import select

    from fpgrade.storage import database
    from fpgrade.storage.tables import ModelVersion, TrainingRun

    with database.read_session() as session:
        run = session.exec(select(TrainingRun).where(TrainingRun.out_dir == str(out))).first()
        row = session.get(ModelVersion, run.model_version_id) if run and run.model_version_id else None
        return (row.version, row.status) if row is not None else None


def _result(plan: Plan, version: str, comparison: dict, status: str | None = None) -> dict:
    """What was decided; ``status``: the version's status now, when it is read again later (a
    person may have promoted or rolled it back since)."""
    promote = comparison["promote"]
    decided_status = ("current" if promote else "candidate" if comparison.get("passes")
                      else "rejected")
    return {"version": version, "status": status or decided_status,
            "reason": comparison["reason"], "replaces" if promote else "kept": plan.parent,
            **{k: comparison[k] for k in ("old", "new", "metric", "margin", "test_subjects",
                                          "new_subjects")},
            "data_snapshot_sha256": plan.final_labels_sha256, "final_labels": len(plan.final_label_ids)}


def _snapshot_records(registry: Registry, scale, plan: Plan, out: Path):
    """The final labels of the plan's snapshot; one line naming the retrain if some are gone."""
    from fpgrade.training.data import load_records

    try:
        return load_records("db", scale, registry, plan.final_label_ids)
    except TrainingError as exc:
        raise TrainingError(f"{out}: {exc}; start a new retrain with another --out") from None


def retrain(*, registry: Registry, scale_id: str, out: Path, config: TrainConfig,
            model_id: str | None = None, metric: str = "macro_f1", margin: float = 0.0,
            by: str = "retrain", auto_promote: bool = False, min_test_samples: int | None = None,
            min_metric: float | None = None) -> dict:
    """Retrain ``scale_id`` into ``out`` (``config.resume``: finish the retrain there); returns
    what was decided (see the module docstring). ``auto_promote``, ``min_test_samples``,
    ``min_metric``: the group's opt-in to automatic promotion
    (:func:`fpgrade.models.promotion.auto_promotion`)."""
    from fpgrade.models.promotion import auto_promotion
    from fpgrade.training.engine import distributed
    from fpgrade.training.lock import run_lock

    auto_promotion(auto_promote, min_test_samples, min_metric)  # refused before anything is read
    rank, _ = distributed()
    with run_lock(out) if rank == 0 else nullcontext():  # one writer per run folder
        return _retrain(registry=registry, scale_id=scale_id, out=out, config=config,
                        model_id=model_id, metric=metric, margin=margin, by=by,
                        promotion={"auto_promote": auto_promote, "min_test_samples": min_test_samples,
                                   "min_metric": min_metric})


def _retrain(*, registry: Registry, scale_id: str, out: Path, config: TrainConfig,
             model_id: str | None, metric: str, margin: float, by: str, promotion: dict) -> dict:
    from fpgrade.training.engine import distributed
    from fpgrade.training.protocols import save_folds
    from fpgrade.training.run import _previous_run, rank0_decides, train_run

    if metric not in METRICS:
        raise TrainingError(f"--metric {metric!r}: one of {', '.join(METRICS)}")
    scale = registry.scale(scale_id)
    out = Path(out).resolve()
    asked = {"scale": scale.id, "model": model_id, "metric": metric, "margin": margin,
             "epochs": config.epochs, "batch_size": config.batch_size, "seed": config.seed,
             "lr": config.lr, **promotion}
    rank, _ = distributed()
    if config.resume:
        plan = load_plan(out)
        check_options(plan, {**asked, "model": model_id or plan.parent_model}, out)
        done = decided(out)
        if done is not None:  # the decision was committed before the stop
            return _result(plan, done[0], json.loads((out / "comparison.json").read_text()), done[1])
        check_parent(plan, out)
        records = _snapshot_records(registry, scale, plan, out)
        check_records(plan, records.records, out)
    else:
        made = {}

        def start() -> None:  # rank 0 alone decides about the folder and writes the plan
            if (out / PLAN).is_file():
                raise TrainingError(f"{out} already holds a retrain: pass --resume to finish it, "
                                    "or choose another --out")
            if _previous_run(out) is not None:
                raise TrainingError(f"{out} already holds a training run: choose another --out")
            made["plan"], made["records"] = make_plan(registry, scale, asked)
            save_plan(out, made["plan"])

        # under torchrun the other ranks wait for rank 0's answer (its refusal too), then train
        # on its plan: one snapshot, one split
        rank0_decides(start)
        if rank == 0:
            plan, records = made["plan"], made["records"]
        else:
            plan = load_plan(out)
            records = _snapshot_records(registry, scale, plan, out)
    with tempfile.TemporaryDirectory() as tmp:
        splits = Path(tmp) / "splits.json"
        save_folds(splits, "retrain", config.seed, [plan.fold])
        init = plan.parent_weights if plan.model == plan.parent_model else None
        training = replace(config, init_weights=init, resume=config.resume and (out / "run.json").is_file())
        summary = train_run(registry=registry, model_id=plan.model, data="db", protocol="retrain",
                            out=out, config=training, scale_id=scale.id, splits=splits, record=False,
                            final_label_ids=plan.final_label_ids)
    if "rank" in summary:
        return summary
    check_parent(plan, out)
    comparison = compare(registry, plan, records, out, config)
    return _result(plan, register(plan, out, comparison, by), comparison)
