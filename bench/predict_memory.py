"""Memory and CPU of a one-photo ``fpgrade predict``, beside what it cannot do without.

    .venv/bin/python -m bench.predict_memory [--repeats 3] [--photo PATH] [--models a,b]

For each model (default: ``asymmetry_classifier``, paper 001's 26 kB classifier, and ``phcnn``,
a small convolutional network) the bench writes a weight file of the untrained network (its size
is that of trained weights) in a temporary folder, then runs as new processes, ``--repeats``
times after one warm-up, with the cache off (``FPGRADE_CACHE_ENABLED=0``: the landmarks are
found every time) in a new data folder:

- ``python -c "import torch"``: the floor of any PyTorch model on this machine;
- ``fpgrade measure PHOTO``: the face landmarks alone (MediaPipe), which every model here needs;
- ``fpgrade predict PHOTO --model M --weights W``.

CPU time (user + system) and peak memory (max RSS) come from ``os.wait4``; the medians are
printed, with what ``predict`` holds beyond the larger of the first two, and the heavy modules
the ``predict`` process imported (issue 21: "``predict`` memory in proportion to the model").
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.measure_startup import DEFAULT_PHOTO, _medians

HEAVY = ("torch", "timm", "torchvision", "mediapipe", "matplotlib", "cv2", "scipy.interpolate",
         "scipy.optimize", "sqlalchemy", "gradio", "pandas", "pyarrow")

MAKE_WEIGHTS = """
import sys
from fpgrade.models import weights
from fpgrade.registry import get_registry
registry = get_registry()
model, scale = registry.model(sys.argv[1]), registry.scale(sys.argv[2])
network = model.build(scale.id, num_classes=len(scale))
card = {"id": model.card.id, "scale": scale.id, "codes": list(scale.codes), "options": {},
        "model_card": model.card.as_dict()}
weights.save(sys.argv[3], network, card)
"""

PROBE = """
import json, sys
from fpgrade.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "heavy": [m for m in %r if m in sys.modules]}), file=sys.stderr)
""" % (HEAVY,)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--photo", type=Path, default=DEFAULT_PHOTO)
    parser.add_argument("--models", default="asymmetry_classifier,phcnn")
    parser.add_argument("--scale", default="house_brackmann")
    args = parser.parse_args(argv)
    print(subprocess.run([sys.executable, "-c", "from bench.machine import describe; print(describe())"],
                         capture_output=True, text=True).stdout.strip())
    print(f"photo: {args.photo}; median of {args.repeats} runs after one warm-up; cache off")
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "FPGRADE_DATA_DIR": data, "FPGRADE_CACHE_ENABLED": "0"}
        torch_cpu, torch_mib = _medians([sys.executable, "-c", "import torch"], env, args.repeats)
        print(f"{'import torch':>34}: {torch_cpu:5.2f} s CPU {torch_mib:5.0f} MiB")
        measure = [sys.executable, "-m", "fpgrade", "measure", str(args.photo), "--json"]
        measure_cpu, measure_mib = _medians(measure, env, args.repeats)
        print(f"{'fpgrade measure (landmarks)':>34}: {measure_cpu:5.2f} s CPU {measure_mib:5.0f} MiB")
        for model in args.models.split(","):
            weights = Path(data) / model / "best.safetensors"
            subprocess.run([sys.executable, "-c", MAKE_WEIGHTS, model, args.scale, str(weights)],
                           check=True, env=env)
            command = ["predict", str(args.photo), "--model", model, "--weights", str(weights),
                       "--json"]
            cpu, mib = _medians([sys.executable, "-m", "fpgrade", *command], env, args.repeats)
            probe = subprocess.run([sys.executable, "-c", PROBE, *command], env=env,
                                   capture_output=True, text=True, check=True)
            heavy = json.loads(probe.stderr.strip().splitlines()[-1])["heavy"]
            size = weights.stat().st_size / 1024
            print(f"{'fpgrade predict ' + model:>34}: {cpu:5.2f} s CPU {mib:5.0f} MiB "
                  f"(weights {size:,.0f} kB; {mib - max(torch_mib, measure_mib):+.0f} MiB beyond "
                  f"the larger of the two above) imports: {', '.join(heavy)}")


if __name__ == "__main__":
    main()
