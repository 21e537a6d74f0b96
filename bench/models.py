"""Benchmark of the model plugins: inference time (batch 1 and 8) and training-step time.

    .venv/bin/python -m bench.models [--models ID ...] [--repeats 5] [--device cpu|cuda] [--json OUT]
    .venv/bin/python -m bench.models --device cuda --throughput   # images/s, fp32 vs bf16 autocast

Random inputs of each card's shape, random weights (speed does not depend on them). Inference:
median of ``--repeats`` timed forward passes after a warm-up. Training step: forward, loss,
backward and optimiser step at batch 8 (4 for the video and cascaded models), median likewise. On
CUDA, ``--throughput`` reports training images (or clips) per second with and without bf16
autocast and channels_last, the engine's two settings.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import torch

from bench.machine import describe, median_seconds

TRAIN_BATCH = {"palsynet3d": 4, "cascaded_encoder": 4, "cascaded_encoder_e2e": 4}


def inputs(model, batch: int, device) -> list[torch.Tensor]:
    from fpgrade_plugins.preprocess.asymmetry_features import FEATURES

    shapes = {"sequence_face": (4, 3, 128, 128), "sequence_eyebrow": (4, 3, 40, 120),
              "sequence_mouth": (4, 3, 40, 120), "face_299": (3, 299, 299), "face_224": (3, 224, 224),
              "face_clip": (3, 8, 112, 112), "asymmetry_features": (len(FEATURES),)}
    if model.card.id == "phcnn":  # a frame classifier: one frame per sample
        shapes = {**shapes, "sequence_face": (1, 3, 128, 128), "sequence_eyebrow": (1, 3, 40, 120),
                  "sequence_mouth": (1, 3, 40, 120)}
    return [torch.randn(batch, *shapes[key], device=device) for key in model.input_keys]


def _sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def bench_model(model, repeats: int, device, autocast: bool = False) -> dict:
    from fpgrade.training.recipes import make_optimizer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        network = model.build(num_classes=6).to(device)
    result = {}
    network.eval()
    for batch in (1, 8):
        x = inputs(model, batch, device)

        def infer():
            with torch.no_grad(), (torch.autocast("cuda", dtype=torch.bfloat16) if autocast
                                   else torch.autocast("cpu", enabled=False)):
                network(*x)

        result[f"infer_b{batch}_ms"] = 1000 * median_seconds(infer, repeats, lambda: _sync(device))
    stage = model.stages()[-1]
    model.prepare_stage(network, stage)
    network.train()
    batch = TRAIN_BATCH.get(model.card.id, 8)
    x = inputs(model, batch, device)
    labels = torch.randint(0, 6, (batch,), device=device)
    optimiser = make_optimizer({"optimizer": "sgd", "lr": 1e-4}, network.parameters())

    def step():
        optimiser.zero_grad(set_to_none=True)
        with (torch.autocast("cuda", dtype=torch.bfloat16) if autocast
              else torch.autocast("cpu", enabled=False)):
            outputs = network(*x)
            loss = model.loss(network, outputs, {"label": labels}, None, stage)
        loss.backward()
        optimiser.step()

    seconds = median_seconds(step, repeats, lambda: _sync(device))
    result.update(train_batch=batch, train_step_ms=1000 * seconds, train_samples_per_s=batch / seconds)
    return result


def main() -> None:
    from fpgrade.registry import get_registry

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--throughput", action="store_true", help="CUDA: fp32 vs bf16 autocast")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    device = torch.device(args.device)
    registry = get_registry()
    ids = args.models or sorted(registry.models)
    report = {"machine": describe(), "device": str(device), "threads": torch.get_num_threads(),
              "repeats": args.repeats, "models": {}}
    print(f"machine: {report['machine']}; device {device}; {report['threads']} threads")
    print(f"{'model':24s} {'infer b1 ms':>12s} {'infer b8 ms':>12s} {'train step ms':>14s} {'samples/s':>10s}")
    for model_id in ids:
        model = registry.model(model_id)
        row = bench_model(model, args.repeats, device)
        if args.throughput and device.type == "cuda":
            fast = bench_model(model, args.repeats, device, autocast=True)
            row["bf16_train_samples_per_s"] = fast["train_samples_per_s"]
            row["bf16_speedup"] = fast["train_samples_per_s"] / row["train_samples_per_s"]
        report["models"][model_id] = row
        extra = f"  bf16 x{row['bf16_speedup']:.2f}" if "bf16_speedup" in row else ""
        print(f"{model_id:24s} {row['infer_b1_ms']:12.1f} {row['infer_b8_ms']:12.1f} "
              f"{row['train_step_ms']:14.1f} {row['train_samples_per_s']:10.1f}{extra}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
