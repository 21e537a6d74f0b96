"""Training data: labelled records from a manifest or the database, preprocessed once.

A record is one labelled photo or video of a subject. Labels on another scale are converted when
a paper defines the conversion (House-Brackmann -> severity3, any palsy scale -> palsy_binary) and
skipped, and counted, otherwise. From the database, a medium's label is its final label
(:func:`fpgrade.labelling.final.final_labels`: agreed and checked, adjudicated, or imported); a
label of a blind pass is never used on its own, however late it was given.

Preprocessing (face landmarks from the cache, crops, masks) runs once per record; the arrays are
kept in memory, and each epoch only augments them.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from rich.progress import track
from torch.utils.data import Dataset

from fpgrade.conversions import convert
from fpgrade.errors import FpgradeError, TrainingError, UndefinedConversionError
from fpgrade.model_api import GradingModel
from fpgrade.registry import Registry
from fpgrade.scales import GradingScale
from fpgrade.training.inputs import InputMaker, to_tensors
from fpgrade.training.tensors import augment_sample


#: the annotator name of every label ``fpgrade synth`` writes
SYNTHETIC_ANNOTATOR = "synthetic"


@dataclass(frozen=True)
class Record:
    """One labelled medium; ``sha256`` is the stored hash, ``media_id`` the medium's row and
    ``final_label_id`` the final label's row when it comes from the database, ``synthetic`` is
    true for ``fpgrade synth`` data (never clinical evidence); ``visit`` names the visit (session)
    the medium was taken at, None where the data names none (the importer's default visit)."""

    subject: str
    path: Path
    label: str
    movement: str | None = None
    sha256: str | None = None
    synthetic: bool = False
    final_label_id: int | None = None
    visit: str | None = None
    media_id: int | None = None


def visit_name(name: str | None) -> str | None:
    """A visit as the data names it; None for none, or for the importer's default visit."""
    from fpgrade.importer import DEFAULT_VISIT

    return None if not name or name == DEFAULT_VISIT else name


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
        out.records.append(Record(item.subject, item.path, label, item.movement,
                                  synthetic=item.synthetic or item.annotator == SYNTHETIC_ANNOTATOR,
                                  visit=visit_name(item.visit)))
    return out


def records_from_database(session, scale: GradingScale, registry: Registry,
                          final_label_ids: Iterable[int] | None = None) -> RecordSet:
    """Labelled records of the database: each medium's final label, converted to ``scale``.

    Only final labels are read (one per medium and scale). A medium with final labels on several
    scales gives one record: from its label on ``scale`` itself if it has one, else from the
    first scale (by id) that converts. Media with labels but no final label yet (blind passes,
    adjudication pending) are counted in ``skipped``. ``final_label_ids`` (a data snapshot)
    reads those final labels only: one that is gone is an error, final labels added since are
    left out.
    """
    from sqlmodel import select

    from fpgrade.labelling.final import final_labels
    from fpgrade.storage.tables import Annotation

    out = RecordSet([])
    chosen: dict[int, tuple[tuple, Record]] = {}  # media id -> (preference, its record)
    finals = final_labels(session)
    if final_label_ids is not None:
        wanted = set(final_label_ids)
        finals = [final for final in finals if final.final_label_id in wanted]
        gone = len(wanted - {final.final_label_id for final in finals})
        if gone:
            raise TrainingError(f"{gone} final label(s) of the data snapshot are no longer in the "
                                "database: the snapshot cannot be read again")
    for final in finals:
        if final.scale not in registry.scales:
            out.skipped["unknown scale"] += 1
            continue
        label = _target_label(final.label, registry.scale(final.scale), scale)
        if label is None:
            out.skipped[f"{final.scale} does not convert to {scale.id}"] += 1
            continue
        preference = (final.scale != scale.id, final.scale)
        if final.media_id in chosen and chosen[final.media_id][0] <= preference:
            continue
        chosen[final.media_id] = (preference, Record(
            final.subject, final.path, label, final.movement, sha256=final.sha256,
            synthetic=final.synthetic or final.decided_by == SYNTHETIC_ANNOTATOR,
            final_label_id=final.final_label_id, visit=visit_name(final.visit),
            media_id=final.media_id))
    labelled = set(session.exec(select(Annotation.media_id).where(
        Annotation.label.is_not(None)).distinct()).all())
    waiting = len(labelled - {final.media_id for final in finals})
    if waiting and final_label_ids is None:
        out.skipped["labelled but no final label yet (labelling not finished)"] += waiting
    out.records = [record for _, record in chosen.values()]
    out.records.sort(key=lambda r: (r.subject, str(r.path)))
    return out


def check_stored_files(records: list[Record]) -> None:
    """Refuse to train on stored media whose file is gone or was changed since it was imported
    (its sha256 differs from the stored one), naming them: a label belongs to the bytes that
    were labelled, not to whatever now has that name."""
    from fpgrade.cache import default_cache

    cache = default_cache()
    missing, changed = [], []
    for record in records:
        if record.sha256 is None:
            continue
        if not record.path.is_file():
            missing.append(str(record.path))
        elif cache.file_sha256(record.path) != record.sha256:
            changed.append(str(record.path))
    problems = []
    for what, paths in (("changed since they were imported", changed), ("missing", missing)):
        if paths:
            shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
            problems.append(f"{len(paths)} stored file(s) {what}: {shown}")
    if problems:
        raise TrainingError("; ".join(problems) + ". If the data folder moved: fpgrade db "
                            "relocate OLD_FOLDER NEW_FOLDER (checks each file's sha256). A file "
                            "that really changed is new media: import it and label it again")


def load_records(source: str, scale: GradingScale, registry: Registry,
                 final_label_ids: Iterable[int] | None = None) -> RecordSet:
    """Records from a manifest CSV path, or from a database (``db`` for the configured one, or
    a SQLAlchemy URL; ``final_label_ids``: only those final labels, see
    :func:`records_from_database`)."""
    from fpgrade.storage import database

    if source == "db" or "://" in source:
        with database.read_session(None if source == "db" else source) as session:
            found = records_from_database(session, scale, registry, final_label_ids)
        check_stored_files(found.records)
        return found
    if final_label_ids is not None:
        raise TrainingError(f"{source}: a data snapshot of final labels is read from a database only")
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
    #: the visit of the record (None where the data names none)
    visit: str | None = None


@dataclass
class Prepared:
    """Every record's network inputs, computed once; failures kept with their reason."""

    items: list[Item]
    failures: list[tuple[Path, str]]


def prepare(records: list[Record], model: type[GradingModel], registry: Registry,
            description: str = "Preprocessing") -> Prepared:
    """Every record's samples through :class:`~fpgrade.training.inputs.InputMaker` (the path
    prediction uses too); a record that fails is kept with its reason."""
    items: list[Item] = []
    failures: list[tuple[Path, str]] = []
    make_inputs = InputMaker(registry, model, quiet=True)
    for index, record in enumerate(track(records, description=description, transient=True)):
        try:
            samples = make_inputs(record.path, record.movement)
        except FpgradeError as exc:
            failures.append((record.path, str(exc)))
            continue
        items += [Item(sample, record.label, record.subject, index, record.visit) for sample in samples]
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
            arrays, label = augment_sample(arrays, self.model, label, seed, self.scale)
        batch = to_tensors(arrays, self.model)
        batch["label"] = torch.tensor(self.scale.index(label))
        batch["index"] = torch.tensor(index)
        return batch


def check_labels(items: list[Item], scale: GradingScale, where: str) -> None:
    if not items:
        raise TrainingError(f"no usable samples in the {where} set")
    missing = sorted(set(scale.codes) - {item.label for item in items})
    if missing and where.endswith("training"):
        warnings.warn(f"{where} set has no sample of {', '.join(missing)}", stacklevel=2)
