"""A training run: data, subject-grouped folds, one Trainer per fold, test metrics, records.

Layout of ``OUT``::

    run.json                what was asked (model, scale, data, protocol, epochs, seed...)
    splits.json             the folds' subjects (reuse with --splits)
    fold_0/best.safetensors best weights of fold 0 (+ best.json card, last.*, state.pt, history)
    fold_0/test.json        test metrics (+ test_confusion.png, test_predictions.csv)
    summary.json            every fold's test metrics, with mean and standard deviation
    predictions.csv         out-of-fold predictions: every fold's test samples
                            (:mod:`fpgrade.training.oof`)

A folder that already holds a run is never overwritten silently: ``resume`` finishes it (every
fold: a tested fold is kept, a fold with a checkpoint continues, a fold not started starts), and
``overwrite`` replaces it, unless the model-version registry keeps one of its versions (current,
once promoted, or a retrain's parent: refused in one line); the versions of a replaced run stay
in the registry, withdrawn. One process writes a folder at a time (:mod:`fpgrade.training.lock`);
under torchrun rank 0 alone decides about the folder. Each version records its fold's test
metrics. Paths in ``run.json`` and in the database are absolute, so ``fpgrade
evaluate RUN`` works from any folder. A run trained on SYNTHETIC records says so in ``run.json``,
``summary.json`` and every weight card.
"""

from __future__ import annotations

import json
import shutil
from contextlib import nullcontext
from dataclasses import asdict, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from fpgrade.errors import FpgradeError, TrainingError
from fpgrade.files import write_json
from fpgrade.registry import Registry
from fpgrade.training import oof
from fpgrade.training.data import GradingDataset, check_labels, load_records, prepare
from fpgrade.training.engine import TrainConfig, Trainer
from fpgrade.training.lock import run_lock
from fpgrade.training.metrics import compute_metrics, save_metrics
from fpgrade.training.protocols import load_folds, make_folds, save_folds
from fpgrade.training.records import forget_run, record_run
from fpgrade.training.selection import check_select_metric
from fpgrade.training.split_checks import check_protocol_matches, check_subjects_in_folds
from fpgrade.training.summary import summarise


#: what a run folder holds (removed by ``overwrite``)
RUN_FILES = ("run.json", "splits.json", "summary.json", "evaluation.json", "predictions.csv",
             "evaluation_predictions.csv")


def _select(items, subjects):
    wanted = set(subjects)
    return [item for item in items if item.subject in wanted]


def data_source(data: str) -> str:
    """``db`` and database URLs as they are; a manifest path made absolute."""
    return data if data == "db" or "://" in data else str(Path(data).resolve())


def shown_source(data: str) -> str:
    """``data`` as it may be written in files and messages: a database URL without its password."""
    if "://" not in data:
        return data
    from fpgrade.storage.database import safe_url

    return safe_url(data)


def _read_json(path: Path, what: str) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise TrainingError(f"{path}: damaged {what} ({exc}); delete {path.parent} to run that part "
                            "again, or pass --overwrite to start the whole run again") from exc


def _previous_run(out: Path) -> dict | None:
    """The ``run.json`` of ``out`` if it holds a run ({} for a run without one; None for a new
    or empty folder)."""
    if (out / "run.json").is_file():
        return _read_json(out / "run.json", "run description")
    if any(out.glob("fold_*")):
        return {}
    return None


#: what must be the same to resume a run (anything else would mix two trainings in one run)
RESUME_KEYS = ("model", "scale", "data", "epochs", "batch_size", "seed", "lr", "options",
               "backbone_weights", "final_labels_sha256", "select_metric")
#: what a run written before a key existed had
RESUME_DEFAULTS = {"select_metric": "macro_f1"}


def _check_folder(out: Path, *, resume: bool, overwrite: bool, asked: dict) -> dict | None:
    """Check what ``out`` holds against the request, changing nothing; returns the run to resume
    (or None). An existing run is replaced later, once the new run's data and folds are ready."""
    previous = _previous_run(out)
    if resume and overwrite:
        raise TrainingError("--resume and --overwrite exclude each other")
    if resume:
        if not previous:
            raise TrainingError(f"{out}: no run to resume here (no run.json); start it without --resume")
        differs = [f"{key} {previous.get(key, RESUME_DEFAULTS.get(key))!r} (asked: {asked.get(key)!r})"
                   for key in RESUME_KEYS
                   if previous.get(key, RESUME_DEFAULTS.get(key)) != asked.get(key)]
        if differs:
            raise TrainingError(f"{out}: the run there was started with another " + "; ".join(differs)
                                + ": resume it with the same options, or choose another --out")
        return previous
    if previous is not None and not overwrite:
        raise TrainingError(f"{out} already holds a training run: pass --resume to finish it, "
                            "--overwrite to replace it, or choose another --out")
    if previous is not None:
        from fpgrade.models.lifecycle import kept_by_registry
        from fpgrade.storage import database

        with database.read_session() as session:
            kept = kept_by_registry(session, out)
        if kept:
            raise TrainingError(f"{out}: --overwrite would replace the weights of model versions the "
                                f"registry keeps ({'; '.join(kept)}); choose another --out")
    return None


def _clear_run(out: Path) -> None:
    """Remove a replaced run's files and its records (runs and model versions of that folder)."""
    for fold in out.glob("fold_*"):
        shutil.rmtree(fold)
    for name in RUN_FILES:
        (out / name).unlink(missing_ok=True)
    forget_run(out)


def train_run(*, registry: Registry, model_id: str, data: str, protocol: str | None, out: Path,
              config: TrainConfig, scale_id: str | None = None, splits: Path | None = None,
              folds_to_run: list[int] | None = None, record: bool = True,
              overwrite: bool = False, final_label_ids: list[int] | None = None) -> dict:
    """Train every fold (or ``folds_to_run``) of ``protocol`` into ``out``; see the module
    docstring for resume and overwrite. Under torchrun, rank 0 alone writes files. With
    ``splits``, the folds and the protocol are that file's (``protocol`` may be None; one that
    differs is refused, :mod:`fpgrade.training.split_checks`).

    :param final_label_ids: a data snapshot: train on these final labels of the database only
        (its hash is in ``run.json``, and a resume must name the same snapshot).
    """
    from fpgrade.training.engine import distributed, select_device

    select_device(config.device)  # a device this process cannot have fails before any file is written
    model = registry.model(model_id)
    scale = registry.scale(scale_id or model.card.scales[0])
    config = replace(config, select_metric=check_select_metric(config.select_metric, scale))
    if scale.id not in model.card.scales:
        import warnings

        warnings.warn(f"{model_id} was published for {', '.join(model.card.scales)}; training it on "
                      f"{scale.id} is a departure from its paper", stacklevel=2)
    rank, _ = distributed()
    main = rank == 0
    out = Path(out).resolve()
    data = data_source(data)
    asked = {"model": model_id, "scale": scale.id, "data": shown_source(data), "epochs": config.epochs,
             "batch_size": config.batch_size, "seed": config.seed, "lr": config.lr,
             "options": config.options, "backbone_weights": config.backbone_weights,
             "select_metric": config.select_metric}
    if final_label_ids is not None:
        from fpgrade.models.lifecycle import snapshot_hash

        asked["final_labels_sha256"] = snapshot_hash(final_label_ids)
    if splits is not None and not config.resume:  # before any data is read
        check_protocol_matches(protocol, load_folds(splits)[0], splits)
    with run_lock(out) if main else nullcontext():  # one writer per run folder
        # rank 0 alone decides about the folder, the others wait for its answer: a rank that
        # looked later would find the run rank 0 has just begun (issue 17)
        previous = rank0_decides(lambda: _check_folder(out, resume=config.resume,
                                                       overwrite=overwrite, asked=asked))
        if previous is not None:  # resume: the run's own folds, whatever --protocol / --splits say
            splits, protocol = out / "splits.json", previous["protocol"]
        records = load_records(data, scale, registry, final_label_ids)
        # the data snapshot of a database-trained version: the final labels it read, so that
        # ``fpgrade sync serve`` counts only labels that came later as new to it
        snapshot = sorted({r.final_label_id for r in records.records if r.final_label_id is not None})
        if not records.records:
            raise TrainingError(f"{shown_source(data)}: no record labelled on (or convertible to) {scale.id}"
                                + (f"; skipped: {dict(records.skipped)}" if records.skipped else ""))
        prepared = prepare(records.records, model, registry, f"Preprocessing for {model_id}")
        if not prepared.items:
            reasons = "; ".join(f"{p}: {r}" for p, r in prepared.failures[:3])
            raise TrainingError(f"no record could be preprocessed for {model_id} ({reasons})")
        subjects = [item.subject for item in prepared.items]
        labels = [item.label for item in prepared.items]
        if splits is not None:
            theirs, folds = load_folds(splits)
            protocol = theirs if previous is not None else check_protocol_matches(protocol, theirs, splits)
            check_subjects_in_folds(set(subjects), folds, splits,
                                    {r.subject for r in records.records} - set(subjects))
        else:
            folds = make_folds(subjects, labels, protocol, config.seed)
        wanted = range(len(folds)) if folds_to_run is None else sorted(set(folds_to_run))
        if any(not 0 <= index < len(folds) for index in wanted):
            raise TrainingError(f"--fold {', '.join(map(str, folds_to_run or []))}: {protocol} has folds "
                                f"0 to {len(folds) - 1}")
        synthetic = sum(record.synthetic for record in records.records)
        run_info = {
            **asked, "protocol": protocol, "classes": list(scale.codes), "synthetic": synthetic > 0,
            "synthetic_records": synthetic,
            "records": len(records.records), "samples": len(prepared.items),
            "skipped": dict(records.skipped),
            "failures": [{"path": str(p), "reason": r} for p, r in prepared.failures],
            "started": (previous or {}).get("started", datetime.now(timezone.utc).isoformat()),
        }
        if main:  # everything is ready: only now is an old run replaced
            if previous is None and overwrite:
                _clear_run(out)
            out.mkdir(parents=True, exist_ok=True)
            save_folds(out / "splits.json", protocol, config.seed, folds)
            write_json(out / "run.json", run_info)
        _barrier()
        fold_config = replace(config, card_extra={"synthetic": run_info["synthetic"]})
        for index in wanted:
            fold, fold_dir = folds[index], out / f"fold_{index}"
            if config.resume and (fold_dir / "test.json").is_file():  # finished before the stop
                continue
            train_items, val_items = _select(prepared.items, fold.train), _select(prepared.items, fold.val)
            test_items = _select(prepared.items, fold.test)
            check_labels(train_items, scale, f"fold {index} training")
            check_labels(val_items, scale, f"fold {index} validation")
            check_labels(test_items, scale, f"fold {index} test")
            resume_fold = config.resume and (fold_dir / "state.pt").is_file()
            trainer = Trainer(model, scale, fold_dir, replace(fold_config, resume=resume_fold),
                              description=f"fold {index + 1}/{len(folds)}")
            result = trainer.fit(train_items, val_items)
            if not trainer.main:
                continue
            metrics = evaluate_items(trainer, result.best_path, test_items, records.records, {
                "path": fold_dir / oof.FOLD_FILE, "fold": index, "seed": config.seed,
                "synthetic": run_info["synthetic"]})
            metrics.update(fold=index, best_epoch=result.best_epoch, test_subjects=fold.test)
            save_metrics(metrics, fold_dir, "test", f"{model_id} fold {index} ({scale.id})")
        import torch.distributed as dist

        if dist.is_initialized():  # torchrun: the other ranks are done once rank 0 has tested
            dist.barrier()
            dist.destroy_process_group()
        if not main:
            return {"rank": rank}
        # every tested fold of the run, also those of an earlier (resumed or --fold) invocation
        fold_metrics = [_read_json(out / f"fold_{i}" / "test.json", "test metrics")
                        for i in range(len(folds)) if (out / f"fold_{i}" / "test.json").is_file()]
        summary = summarise(fold_metrics)
        summary.update(model=model_id, scale=scale.id, protocol=protocol, synthetic=run_info["synthetic"],
                       folds_tested=len(fold_metrics), folds_total=len(folds))
        without = oof.gather(out, len(folds), scale)
        if without:  # tested by an fpgrade older than predictions.csv: `evaluate` writes them
            summary["predictions_missing_folds"] = without
        write_json(out / "summary.json", summary)
        if record and fold_metrics:
            record_run(run_info, summary, out, model_id, scale.id, snapshot=snapshot or None)
        return summary


def _barrier() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.barrier()


def rank0_decides(decide):
    """``decide()`` run by rank 0 alone, its answer (or its refusal, one line) given to every
    rank of a torchrun launch; plainly ``decide()`` without one. The answer travels as a CPU
    tensor (gloo), whatever device the ranks train on."""
    import torch
    import torch.distributed as dist

    if not dist.is_initialized():
        return decide()
    box: list = [None, None]
    if dist.get_rank() == 0:
        try:
            box = [decide(), None]
        except FpgradeError as exc:
            box = [None, str(exc)]
            dist.broadcast_object_list(box, src=0, device=torch.device("cpu"))
            raise
    dist.broadcast_object_list(box, src=0, device=torch.device("cpu"))
    if box[1] is not None:
        raise TrainingError(box[1])
    return box[0]


def predict_items(trainer: Trainer, weights_path: Path, items) -> tuple[np.ndarray, str]:
    """Class probabilities of ``items`` under the weights at ``weights_path``, and their sha256."""
    from fpgrade.models import weights as weight_files

    loaded = weight_files.load(weights_path, model_id=trainer.model.card.id,
                               scale=trainer.scale.id, codes=trainer.scale.codes)
    weight_files.load_into(trainer.network, loaded)
    dataset = GradingDataset(items, trainer.model, trainer.scale, train=False)
    probabilities, _ = trainer.evaluate(dataset)
    return probabilities, loaded.sha256


def evaluate_items(trainer: Trainer, weights_path: Path, items, records=None,
                   predictions: dict | None = None) -> dict:
    """Test metrics of ``items``; with ``records`` (what ``items[i].record`` indexes) and
    ``predictions`` (``path``, ``fold``, ``seed``, ``synthetic``), their out-of-fold rows are
    written to ``predictions["path"]`` too (:mod:`fpgrade.training.oof`)."""
    from fpgrade.models.versions import version_name

    probabilities, sha256 = predict_items(trainer, weights_path, items)
    scale = trainer.scale
    metrics = compute_metrics([scale.index(item.label) for item in items], probabilities, scale,
                              subjects=[item.subject for item in items],
                              visits=[item.visit for item in items])
    metrics["weights_sha256"] = sha256
    if predictions is not None:
        rows = oof.fold_rows(predictions["fold"], items, records, probabilities, scale,
                             model=trainer.model.card.id,
                             model_version=version_name(trainer.model.card.id, sha256),
                             seed=predictions["seed"], synthetic=predictions["synthetic"])
        oof.write_rows(predictions["path"], rows, scale)
    return metrics


def evaluate_run(run_dir: Path, registry: Registry, config: TrainConfig | None = None,
                 data: str | None = None) -> dict:
    """Evaluate every fold's best weights of a finished run on its test subjects again, on the
    run's own data or on ``data`` (a manifest or database holding the same subjects); ``data``
    none of whose subjects is the run's is an external set: every sample of it is graded by
    each fold model and their ensemble (:mod:`fpgrade.training.external`)."""
    run_dir = Path(run_dir).resolve()
    try:
        info = json.loads((run_dir / "run.json").read_text())
    except (OSError, ValueError) as exc:
        raise TrainingError(f"{run_dir}: not a training run folder (run.json: {exc})") from exc
    model, scale = registry.model(info["model"]), registry.scale(info["scale"])
    _, folds = load_folds(run_dir / "splits.json")
    missing = [index for index in range(len(folds))
               if not (run_dir / f"fold_{index}" / "best.safetensors").is_file()]
    if missing:  # an average over the other folds would be reported as the run's
        shown = ", ".join(f"fold {i} (fold_{i}/best.safetensors)" for i in missing)
        raise TrainingError(f"{run_dir}: no trained weights for {shown}; restore the file (a fold "
                            f"never trained: `fpgrade train ... --out {run_dir} --resume`) before "
                            "evaluating the run")
    source = data_source(data) if data else info["data"]
    if not data and "***" in source:
        raise TrainingError(f"{run_dir}: its data is a database whose password is not stored "
                            f"({source}); give it with --data")
    if not data and "://" not in source and source != "db" and not Path(source).is_file():
        raise TrainingError(f"{run_dir}: its data {source} is gone; give it with --data")
    records = load_records(source, scale, registry)
    prepared = prepare(records.records, model, registry, f"Preprocessing for {model.card.id}")
    config = config or TrainConfig(epochs=0, batch_size=info.get("batch_size"),
                                   options=info.get("options", {}))
    run_subjects = {s for fold in folds for s in (*fold.train, *fold.val, *fold.test)}
    if data and prepared.items and not run_subjects & {item.subject for item in prepared.items}:
        from fpgrade.training.external import evaluate_external

        return evaluate_external(run_dir, info, folds, model, scale, prepared, records.records,
                                 config, shown_source(source), source)
    results = []
    for index, fold in enumerate(folds):
        weights = run_dir / f"fold_{index}" / "best.safetensors"
        test_items = _select(prepared.items, fold.test)
        if not test_items:
            raise TrainingError(f"{shown_source(source)}: none of fold {index}'s test subjects "
                                f"({', '.join(fold.test[:5])}...) is in the data any more")
        trainer = Trainer(model, scale, run_dir / f"fold_{index}", config)
        metrics = evaluate_items(trainer, weights, test_items, records.records, {
            "path": run_dir / f"fold_{index}" / oof.EVALUATION_FILE, "fold": index,
            "seed": info.get("seed", 0), "synthetic": bool(info.get("synthetic"))})
        metrics.update(fold=index, test_subjects=fold.test)
        save_metrics(metrics, run_dir / f"fold_{index}", "evaluation",
                     f"{model.card.id} fold {index} ({scale.id})")
        results.append(metrics)
    summary = summarise(results)
    summary.update(mode="retest", model=model.card.id, scale=scale.id, protocol=info["protocol"],
                   synthetic=bool(info.get("synthetic")) or any(r.synthetic for r in records.records),
                   data=shown_source(source))
    write_json(run_dir / "evaluation.json", summary)
    # the run's own data: the same out-of-fold predictions as its training wrote (rewritten, so
    # that a run older than predictions.csv gets one); other data: beside them, never over them
    oof.gather(run_dir, len(folds), scale, oof.EVALUATION_FILE,
               oof.RUN_FILE if not data else oof.EVALUATION_RUN_FILE)
    return summary


__all__ = ["train_run", "evaluate_run", "summarise", "asdict"]
