"""Training data: labelled records from a manifest or the database, preprocessed once.

A record is one labelled photo or video of a subject. Labels on another scale are converted when
a paper defines the conversion (House-Brackmann -> severity3, any palsy scale -> palsy_binary) and
skipped, and counted, otherwise. From the database, a medium's label is that of its highest
annotation pass (the final decision of the triple check), the latest if one pass holds several.

Preprocessing (face landmarks from the cache, crops, masks) runs once per record; the arrays are
kept in memory, and each epoch only augments them.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.progress import track
from torch.utils.data import Dataset

from fpgrade.conversions import convert
from fpgrade.errors import FpgradeError, TrainingError, UndefinedConversionError
from fpgrade.face.detect import MultipleFacesWarning
from fpgrade.media import probe
from fpgrade.model_api import GradingModel
from fpgrade.pipeline import plan
from fpgrade.registry import Registry
from fpgrade.scales import GradingScale
from fpgrade.training.tensors import augment_sample, to_tensor


@dataclass(frozen=True)
class Record:
    subject: str
    path: Path
    label: str
    movement: str | None = None


@dataclass
class RecordSet:
    records: list[Record]
    skipped: Counter = field(default_factory=Counter)


def _target_label(label: str, source: GradingScale, target: GradingScale) -> str | None:
    try:
        return convert(label, source, target.id)
    except UndefinedConversionError:
        return None


def records_from_manifest(manifest: Path, scale: GradingScale, registry: Registry) -> RecordSet:
    """Labelled records of a manifest CSV (the import format), labels converted to ``scale``."""
    from fpgrade.importer import ImportItem, manifest_items

    out = RecordSet([])
    for item in manifest_items(Path(manifest)):
        if not isinstance(item, ImportItem) or item.label is None or item.scale is None:
            out.skipped["no label"] += 1
            continue
        try:
            source = registry.scale(item.scale)
            label = _target_label(source.normalise(item.label), source, scale)
        except FpgradeError:
            out.skipped["bad label or scale"] += 1
            continue
        if label is None:
            out.skipped[f"{item.scale} does not convert to {scale.id}"] += 1
            continue
        if not item.path.is_file():
            out.skipped["missing file"] += 1
            continue
        out.records.append(Record(item.subject, item.path, label, item.movement))
    return out


def records_from_database(session, scale: GradingScale, registry: Registry) -> RecordSet:
    """Labelled records of the database: each medium's final label, converted to ``scale``."""
    from sqlmodel import select

    from fpgrade.storage.tables import Annotation, Media, Subject, Visit

    rows = session.exec(
        select(Media, Subject.code, Annotation)
        .join(Visit, Media.visit_id == Visit.id)
        .join(Subject, Visit.subject_id == Subject.id)
        .join(Annotation, Annotation.media_id == Media.id)
    ).all()
    final: dict[int, tuple[tuple, Record]] = {}  # media id -> (pass, time), its record
    out = RecordSet([])
    for media, subject, annotation in rows:
        if annotation.scale not in registry.scales:
            out.skipped["unknown scale"] += 1
            continue
        label = _target_label(annotation.label, registry.scale(annotation.scale), scale)
        if label is None:
            out.skipped[f"{annotation.scale} does not convert to {scale.id}"] += 1
            continue
        key = (annotation.pass_number, annotation.created_at)
        if media.id not in final or key > final[media.id][0]:
            final[media.id] = (key, Record(subject, Path(media.path), label, media.movement))
    out.records = [record for _, record in final.values()]
    out.records.sort(key=lambda r: (r.subject, str(r.path)))
    return out


def load_records(source: str, scale: GradingScale, registry: Registry) -> RecordSet:
    """Records from a manifest CSV path, or from a database (``db`` for the configured one, or
    a SQLAlchemy URL)."""
    from fpgrade.storage import database

    if source == "db" or "://" in source:
        with database.session(None if source == "db" else source) as session:
            return records_from_database(session, scale, registry)
    path = Path(source)
    if not path.is_file():
        raise FpgradeError(f"{path}: no such manifest (or give 'db' for the database)")
    return records_from_manifest(path, scale, registry)


@dataclass
class Item:
    arrays: dict[str, np.ndarray]
    label: str
    subject: str
    record: int


@dataclass
class Prepared:
    """Every record's network inputs, computed once; failures kept with their reason."""

    items: list[Item]
    failures: list[tuple[Path, str]]


def prepare(records: list[Record], model: type[GradingModel], registry: Registry,
            description: str = "Preprocessing") -> Prepared:
    items: list[Item] = []
    failures: list[tuple[Path, str]] = []
    pipelines: dict[str, Any] = {}
    for index, record in enumerate(track(records, description=description, transient=True)):
        try:
            kind = probe(record.path).kind.value
            if kind not in model.card.media:
                raise FpgradeError(f"{record.path}: {model.card.id} grades "
                                   f"{' or '.join(model.card.media)}s, not {kind}s")
            if kind not in pipelines:
                pipelines[kind] = plan(registry, model.pipeline_targets(kind))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MultipleFacesWarning)
                results = pipelines[kind]({"path": record.path, "movement": record.movement})
            samples = model.samples(results, kind)
        except FpgradeError as exc:
            failures.append((record.path, str(exc)))
            continue
        items += [Item(sample, record.label, record.subject, index) for sample in samples]
    return Prepared(items, failures)


class GradingDataset(Dataset):
    """Tensors of prepared items, augmented (with a per-epoch seed) when ``train``."""

    def __init__(self, items: list[Item], model: type[GradingModel], scale: GradingScale,
                 train: bool = False, seed: int = 0) -> None:
        self.items, self.model, self.scale, self.train, self.seed = items, model, scale, train, seed
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.items)

    def labels(self) -> list[int]:
        return [self.scale.index(item.label) for item in self.items]

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        item = self.items[index]
        arrays, label = item.arrays, item.label
        if self.train:
            seed = hash((self.seed, self.epoch, index)) & 0xFFFFFFFF
            arrays, label = augment_sample(arrays, self.model.input_layouts, label,
                                           self.model.augmentation, seed, self.scale)
        card = self.model.card
        batch = {key: to_tensor(array, self.model.input_layouts.get(key, "image"), card.mean, card.std)
                 for key, array in arrays.items()}
        batch["label"] = torch.tensor(self.scale.index(label))
        batch["index"] = torch.tensor(index)
        return batch


def check_labels(items: list[Item], scale: GradingScale, where: str) -> None:
    if not items:
        raise TrainingError(f"no usable samples in the {where} set")
    missing = sorted(set(scale.codes) - {item.label for item in items})
    if missing and where == "training":
        warnings.warn(f"training set has no sample of {', '.join(missing)}", stacklevel=2)
