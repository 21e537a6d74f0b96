"""The plan of a retrain, ``RUN/retrain.json``: everything its decision depends on, fixed when it
first starts so that ``fpgrade retrain --resume`` finishes that same retrain.

It holds the version fine-tuned from and compared with (the parent), the options (scale, model,
metric, margin, epochs, batch size, seed, learning rate, the automatic-promotion policy), the fixed split and the data snapshot:
the final-label ids with their hash, and a hash of what they said (subject, label, file sha256).
A resume refuses, in one line, other options, a parent that is no longer the current version of
the scale, and a snapshot whose final labels are gone or changed; final labels added since are
left out (they are for the next retrain).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from fpgrade.errors import TrainingError
from fpgrade.files import write_json
from fpgrade.training.protocols import Fold

PLAN = "retrain.json"
#: what a resume must be asked again with (``model``: the resolved model id)
OPTIONS = ("scale", "model", "metric", "margin", "epochs", "batch_size", "seed", "lr",
           "auto_promote", "min_test_samples", "min_metric")


@dataclass
class Plan:
    parent: str  # the version name
    parent_id: int
    parent_model: str
    parent_weights: str
    scale: str
    model: str
    metric: str
    margin: float
    epochs: int
    batch_size: int | None
    seed: int
    lr: float | None
    split: dict  # train, val, test subjects
    new_subjects: list[str]
    final_label_ids: list[int]
    final_labels_sha256: str
    records_sha256: str
    started: str = ""
    auto_promote: bool = False  # a group's opt-in (fpgrade.models.promotion); else a person promotes
    min_test_samples: int | None = None
    min_metric: float | None = None

    @property
    def fold(self) -> Fold:
        return Fold(**self.split)


def records_hash(records) -> str:
    """What the snapshot's final labels say: final-label id, subject, label and file sha256."""
    rows = sorted([r.final_label_id, r.subject, r.label, r.sha256] for r in records)
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def save_plan(out: Path, plan: Plan) -> None:
    write_json(Path(out) / PLAN, asdict(plan))


def load_plan(out: Path) -> Plan:
    path = Path(out) / PLAN
    if not path.is_file():
        raise TrainingError(f"{out}: no retrain to resume here (no {PLAN}); start it without --resume")
    try:
        return Plan(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError) as exc:
        raise TrainingError(f"{path}: damaged retrain plan ({exc}); start a new retrain with "
                            "another --out") from exc


def check_options(plan: Plan, asked: dict, out: Path) -> None:
    """The options of a resume must be those of the first start."""
    saved = asdict(plan)
    differs = [f"{key} {saved[key]!r} (asked: {asked[key]!r})" for key in OPTIONS
               if saved[key] != asked[key]]
    if differs:
        raise TrainingError(f"{out}: the retrain there was started with another "
                            + "; ".join(differs) + ": resume it with the same options")


def check_parent(plan: Plan, out: Path) -> None:
    """The version the retrain compares with must still be the current version of its scale."""
    from fpgrade.models.current import current_versions

    info = current_versions([plan.scale]).get(plan.scale)
    now = info.version if info is not None and info.model_id else None
    if now != plan.parent:
        raise TrainingError(f"{out}: the current version of {plan.scale} is now {now or 'none'}, not "
                            f"{plan.parent} that this retrain fine-tunes and is compared with; "
                            "start a new retrain with another --out")


def check_records(plan: Plan, records, out: Path) -> None:
    """The snapshot read again must say what it said at the first start."""
    if records_hash(records) != plan.records_sha256:
        raise TrainingError(f"{out}: final labels of the retrain's data snapshot changed since it "
                            "started; start a new retrain with another --out")


def unfinished_plans(runs: Path) -> list[tuple[Path, Plan]]:
    """(folder, plan) of the retrains under ``runs`` that have a plan but no decision recorded
    (running in another process, or stopped: ``fpgrade retrain ... --resume`` finishes one)."""
    from fpgrade.training.retrain import decided

    found = []
    for path in sorted(Path(runs).glob(f"*/{PLAN}")):
        try:
            plan = load_plan(path.parent)
        except TrainingError:
            continue
        if decided(path.parent.resolve()) is None:
            found.append((path.parent.resolve(), plan))
    return found
