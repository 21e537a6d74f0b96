"""``fpgrade compare --models a,b,c``: every model trained on one split, then compared.

The first model's run makes the folds (``--protocol``, default its paper's); every other model
is trained with ``--splits`` of that run, so all are tested on the same subjects. Runs go to
``OUT/runs/<model>/`` through :func:`fpgrade.training.run.train_run` (or, with ``--seeds``,
:func:`fpgrade.training.seeds.train_seeds`), the functions behind ``fpgrade train`` (same
checks: an existing run is refused unless ``--resume`` finishes it).
"""

from __future__ import annotations

from pathlib import Path

from fpgrade.compare.loading import ComparisonError
from fpgrade.registry import Registry


def common_scale(registry: Registry, models: list[str], scale_id: str | None) -> str:
    """``scale_id``, else the first model's own scale (its card's first) if every model was
    published for it; otherwise the choice is the user's (one line naming the shared scales)."""
    cards = [registry.model(m).card for m in models]
    if scale_id:
        return registry.scale(scale_id).id
    first = cards[0].scales[0]
    if all(first in card.scales for card in cards[1:]):
        return first
    shared = [s for s in cards[0].scales if all(s in card.scales for card in cards[1:])]
    raise ComparisonError(f"{', '.join(models)} have no first scale in common: choose one with --scale "
                          f"({', '.join(shared) if shared else 'they share none they were published for'})")


def train_models(*, registry: Registry, models: list[str], data: str, protocol: str | None, out: Path,
                 config, scale_id: str | None = None, seeds: list[int] | None = None) -> list[Path]:
    """Train ``models`` on one split into ``out/runs/``; returns the run folders, in order. With
    ``seeds``, each model is a multi-seed run (:func:`fpgrade.training.seeds.train_seeds`), all
    on the first model's first seed's folds."""
    from fpgrade.training.protocols import check_protocol
    from fpgrade.training.run import train_run
    from fpgrade.training.seeds import train_seeds

    if len(models) < 2:
        raise ComparisonError("--models needs at least two model ids, e.g. --models asymmetry_classifier,phcnn")
    twice = sorted({m for m in models if models.count(m) > 1})
    if twice:
        raise ComparisonError(f"--models names {', '.join(twice)} twice")
    scale = common_scale(registry, models, scale_id)
    protocol = check_protocol(protocol or registry.model(models[0]).card.recipe.get("protocol", "kfold:5"))
    folders = [Path(out).resolve() / "runs" / model for model in models]
    shared = folders[0] / (f"seed_{seeds[0]}" if seeds else ".") / "splits.json"
    for index, (model, folder) in enumerate(zip(models, folders)):
        options = dict(registry=registry, model_id=model, data=data, protocol=protocol, out=folder,
                       config=config, scale_id=scale, splits=None if index == 0 else shared.resolve())
        if seeds:
            train_seeds(seeds=seeds, **options)
        else:
            train_run(**options)
    return folders
