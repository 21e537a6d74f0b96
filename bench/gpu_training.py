"""Median training-epoch time of the real engine (``Trainer``) on the device it runs on.

    .venv/bin/python -m bench.gpu_training [--models vgg16_palsy asymmetry_classifier]
        [--device cuda|cpu] [--epochs 5] [--samples 64] [--batch-size 16] [--json OUT]

Random inputs of each model's shapes and random weights (speed does not depend on them), fed
through the engine's own path: DataLoader, ``_to_device`` (channels_last on CUDA), bf16 autocast
on CUDA, optimiser steps; validation is not timed. The first epoch is a warm-up (cuDNN autotune,
allocator) and is left out of the median. It also reports the dtypes the network's
convolution and linear layers computed in during training: ``bfloat16`` proves the autocast on CUDA.
Compare devices with ``ratio = cpu median / cuda median`` from two runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from bench.machine import describe

SHAPES = {"sequence_face": (4, 128, 128, 3), "sequence_eyebrow": (4, 40, 120, 3),
          "sequence_mouth": (4, 40, 120, 3), "face_299": (299, 299, 3), "face_224": (224, 224, 3),
          "face_clip": (8, 112, 112, 3), "attribute_mask": (224, 224)}


def random_items(model, scale, count: int, seed: int = 0):
    """``count`` items of random arrays in the layouts the model reads, labels cycling the scale."""
    from fpgrade.training.data import Item

    rng = np.random.default_rng(seed)
    shapes = dict(SHAPES)
    if model.card.id == "phcnn":  # a frame classifier: one frame per sample
        shapes.update({k: (1, *v[1:]) for k, v in SHAPES.items() if k.startswith("sequence_")})
    items = []
    for index in range(count):
        arrays = {}
        for key, layout in model.input_layouts.items():  # inputs and targets (a mask)
            if layout == "vector":
                from fpgrade_plugins.preprocess.asymmetry_features import FEATURES

                arrays[key] = rng.normal(0, 1, len(FEATURES)).astype(np.float32)
            elif layout == "mask":
                arrays[key] = rng.integers(0, 2, shapes[key], dtype=np.int64)
            else:
                arrays[key] = rng.integers(0, 255, shapes[key], dtype=np.uint8)
        items.append(Item(arrays, scale.codes[index % len(scale)], f"S{index}", index))
    return items


def bench_model(model_id: str, device: str, epochs: int, samples: int, batch_size: int) -> dict:
    from fpgrade.registry import get_registry
    from fpgrade.training.engine import TrainConfig, Trainer

    registry = get_registry()
    model = registry.model(model_id)
    scale = registry.scale(model.card.scales[0])
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer = Trainer(model, scale, Path(tmp), TrainConfig(epochs=epochs, batch_size=batch_size,
                                                              device=device, show_progress=False))
        dtypes: set[str] = set()
        for layer in trainer.network.modules():
            if isinstance(layer, (torch.nn.Conv2d, torch.nn.Conv3d, torch.nn.Linear)):
                layer.register_forward_hook(
                    lambda module, args, out: dtypes.add(str(out.dtype).removeprefix("torch."))
                    if torch.is_grad_enabled() else None)
        times: list[float] = []
        train_epoch = trainer._train_epoch

        def timed(*args, **kwargs):
            if trainer.device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            loss = train_epoch(*args, **kwargs)
            if trainer.device.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
            return loss

        trainer._train_epoch = timed
        trainer.fit(random_items(model, scale, samples), random_items(model, scale, batch_size, seed=1))
    timed_epochs = times[1:] or times
    median = statistics.median(timed_epochs)
    return {"model": model_id, "device": str(trainer.device), "precision": trainer.precision(),
            "train_dtypes": sorted(dtypes), "samples": samples, "batch_size": batch_size,
            "epoch_seconds": times, "median_epoch_s": median, "samples_per_s": samples / median}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=["vgg16_palsy", "asymmetry_classifier"])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report = {"machine": describe(), "threads": torch.get_num_threads(), "torch": torch.__version__,
              "models": []}
    print(f"machine: {report['machine']}; {report['threads']} CPU threads; torch {torch.__version__}")
    for model_id in args.models:
        row = bench_model(model_id, args.device, args.epochs, args.samples, args.batch_size)
        report["models"].append(row)
        print(f"{model_id:24s} {row['precision']:40s} trained in {','.join(row['train_dtypes']):9s} "
              f"median epoch {row['median_epoch_s']:8.3f} s ({row['samples_per_s']:8.1f} samples/s; "
              f"epochs {', '.join(f'{t:.3f}' for t in row['epoch_seconds'])})", flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
