"""``fpgrade models check ID``: the smoke test of a model plugin, stage by stage.

Each stage goes through the code that ``fpgrade train`` and ``fpgrade predict`` use, never a
stand-in:

1. ``registered``: the registry has the model (or says why its plugin was left out);
2. ``pipeline (photo|video)``: :func:`fpgrade.pipeline.plan` orders the preprocessors of each
   medium on the card;
3. ``build``: ``build()`` with random weights (no backbone file), its parameter count;
4. ``inputs (photo|video)``: a real medium through :class:`fpgrade.training.inputs.InputMaker`
   (MediaPipe landmarks, crops, ...): the packaged example photo ``single_face.jpg`` of
   ``fpgrade_ui/examples`` unless ``photo`` is given; for a video, ``video`` or a 16-frame clip
   made from that photo (shifted a pixel a frame, so its frames differ);
5. ``forward``: two samples through :func:`fpgrade.training.inputs.to_batch` and the network in
   evaluation mode: ``logits`` of shape (2, classes), all finite;
6. ``train step``: :class:`fpgrade.training.engine.Trainer` fits one epoch of one batch (two
   samples of different grades) in a temporary folder, every stage of the model (so one
   optimisation step each, with the model's augmentation, loss and optimisers); the loss must be
   finite and some parameter must change.

A stage that fails gives its reason in one line and the stages that need it are skipped.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fpgrade.registry import Registry

#: the packaged example photo (``ui/examples/single_face.jpg``, installed as ``fpgrade_ui``)
EXAMPLE_PACKAGE, EXAMPLE_PHOTO = "fpgrade_ui", "examples/single_face.jpg"
CLIP_FRAMES = 16


@dataclass
class Stage:
    name: str
    status: str  # "ok", "failed" or "skipped"
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"stage": self.name, "status": self.status, "detail": self.detail}


def example_photo() -> Path:
    """The example photo shipped with fpgrade's pages."""
    from importlib.resources import files

    return Path(str(files(EXAMPLE_PACKAGE).joinpath(EXAMPLE_PHOTO)))


def clip_from_photo(photo: Path, out: Path, frames: int = CLIP_FRAMES) -> Path:
    """A short mp4 of ``photo``, shifted one pixel a frame (a still face, real video decoding)."""
    import cv2
    import numpy as np

    from fpgrade.imageio import load_image

    rgb = load_image(photo)
    height, width = (rgb.shape[0] // 2) * 2, (rgb.shape[1] // 2) * 2
    rgb = np.ascontiguousarray(rgb[:height, :width])
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (width, height))
    for index in range(frames):
        shifted = np.roll(rgb, index, axis=1)
        writer.write(cv2.cvtColor(shifted, cv2.COLOR_RGB2BGR))
    writer.release()
    return out


class _Checker:
    def __init__(self) -> None:
        self.stages: list[Stage] = []

    def run(self, name: str, step: Callable[[], tuple[Any, str]]) -> Any:
        """Run ``step`` (returning a value and a detail); a failure is recorded, None returned."""
        try:
            value, detail = step()
        except Exception as exc:  # noqa: BLE001 - the plugin's code: report, never crash
            reason = " ".join(f"{type(exc).__name__}: {exc}".split())
            self.stages.append(Stage(name, "failed", reason))
            return None
        self.stages.append(Stage(name, "ok", detail))
        return value

    def skip(self, name: str, why: str) -> None:
        self.stages.append(Stage(name, "skipped", why))


def check_model(registry: Registry, model_id: str, *, scale_id: str | None = None,
                photo: Path | None = None, video: Path | None = None,
                device: str | None = None) -> list[Stage]:
    """Check ``model_id`` stage by stage (see the module docstring); never raises for a fault of
    the model: each stage says ok, failed (with the reason) or skipped."""
    checker = _Checker()
    model = checker.run("registered", lambda: (registry.model(model_id), model_id))
    if model is None:
        return checker.stages
    scale = checker.run("scale", lambda: _scale(registry, model, scale_id))
    pipelines = {}
    for kind in model.card.media:
        label = "photo" if kind == "image" else "video"
        pipelines[kind] = checker.run(f"pipeline ({label})",
                                      lambda k=kind: _pipeline(registry, model, k))
    network = checker.run("build", lambda: _build(model, scale)) if scale else None
    if scale is None:
        checker.skip("build", "no scale")
    with tempfile.TemporaryDirectory(prefix="fpgrade-check-") as folder:
        samples = []
        for kind, pipeline in pipelines.items():
            label = "photo" if kind == "image" else "video"
            if pipeline is None:
                checker.skip(f"inputs ({label})", "no pipeline")
                continue
            medium = (photo or example_photo()) if kind == "image" else video
            made = checker.run(f"inputs ({label})",
                               lambda k=kind, m=medium: _inputs(registry, model, k, m,
                                                                Path(folder)))
            if made:
                samples.append(made[0])
        if network is None or not samples:
            checker.skip("forward", "nothing to run" if network is None else "no inputs")
            checker.skip("train step", "nothing to train")
            return checker.stages
        if checker.run("forward", lambda: _forward(model, network, samples[0], scale)) is None:
            checker.skip("train step", "the forward pass failed")
            return checker.stages
        checker.run("train step", lambda: _train_step(model, scale, network, samples[0],
                                                      Path(folder), device))
    return checker.stages


def _scale(registry, model, scale_id):
    scale = registry.scale(scale_id or next(s for s in model.card.scales if s in registry.scales))
    if scale.id not in model.card.scales:
        raise ValueError(f"{model.card.id} does not grade {scale.id} "
                         f"(its scales: {', '.join(model.card.scales)})")
    return scale, f"{scale.id} ({len(scale)} classes)"


def _pipeline(registry, model, kind):
    from fpgrade.pipeline import plan

    pipeline = plan(registry, model.pipeline_targets(kind))
    return pipeline, " -> ".join(pipeline.ids)


def _build(model, scale):
    from fpgrade.models.backbones import RandomBackboneWarning
    from fpgrade.training.engine import seed_everything

    seed_everything(0)  # the Trainer's own start: the train step compares against these weights
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RandomBackboneWarning)
        network = model.build(scale.id, num_classes=len(scale))
    total = sum(p.numel() for p in network.parameters())
    trainable = sum(p.numel() for p in network.parameters() if p.requires_grad)
    return network, f"{total:,} parameters ({trainable:,} trainable), random weights"


def _describe_array(value) -> str:
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", type(value).__name__)
    return f"{dtype} {tuple(shape)}" if shape is not None else str(dtype)


def _inputs(registry, model, kind, medium, folder):
    from fpgrade.training.inputs import InputMaker

    if medium is None:
        medium = clip_from_photo(example_photo(), folder / "clip.mp4")
    samples = InputMaker(registry, model, quiet=True)(Path(medium))
    sample = samples[0]
    shapes = ", ".join(f"{key} {_describe_array(value)}" for key, value in sample.items())
    return (sample, samples), f"{Path(medium).name}: {len(samples)} sample(s); {shapes}"


def _forward(model, network, sample, scale):
    import torch

    from fpgrade.training.engine import forward
    from fpgrade.training.inputs import to_batch

    batch = to_batch([sample, sample], model)
    network.eval()
    with torch.no_grad():
        outputs = forward(network, model, batch)
    if not isinstance(outputs, dict) or "logits" not in outputs:
        raise ValueError(f"forward() returned {type(outputs).__name__}, not a dict with 'logits'")
    logits = outputs["logits"]
    if tuple(logits.shape) != (2, len(scale)):
        raise ValueError(f"logits of shape {tuple(logits.shape)}, expected (2, {len(scale)}): "
                         "one row per sample, one column per grade")
    if not torch.isfinite(logits).all():
        raise ValueError("the logits hold NaN or infinity")
    inputs = ", ".join(f"{key} {tuple(batch[key].shape)} {batch[key].dtype}"
                       for key in model.input_keys)
    return outputs, f"{inputs} -> logits {tuple(logits.shape)}"


def _train_step(model, scale, network, sample, folder, device):
    import math

    import torch

    from fpgrade.training.data import Item
    from fpgrade.training.engine import Trainer, TrainConfig

    first, last = scale.codes[0], scale.codes[-1]
    items = [Item(dict(sample), first, "check_a", 0), Item(dict(sample), last, "check_b", 1)]
    config = TrainConfig(epochs=1, batch_size=2, device=device, show_progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer = Trainer(model, scale, folder / "run", config)
        result = trainer.fit(items, items)
    losses = {record["stage"]: record["train_loss"] for record in result.history}
    if not losses or not all(math.isfinite(v) for v in losses.values()):
        raise ValueError(f"training losses {losses}: not finite")
    before = dict(network.named_parameters())
    changed = sum(1 for name, p in trainer.network.named_parameters()
                  if name in before
                  and not torch.equal(p.detach().cpu(), before[name].detach().cpu()))
    if not changed:
        raise ValueError("no parameter changed after one optimisation step (are they all frozen, "
                         "or does optimisers() return no parameter?)")
    stages = ", ".join(f"{stage} loss {loss:.3f}" for stage, loss in losses.items())
    return None, (f"one step per stage ({stages}) on {trainer.precision()}; "
                  f"{changed} parameter tensor(s) changed")
