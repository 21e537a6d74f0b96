"""One training repeated over seeds (``fpgrade train --seeds 0,1,2``), and its aggregate.

Each seed is a full run in ``RUN/seed_<s>/`` (its own weights, ``summary.json`` and
``predictions.csv``), all on the same folds: the first seed's folds (or ``--splits``) are reused
by the others, so the seeds differ only in what the seed drives (initialisation, augmentation
draws, batch order). ``RUN/seeds.json`` aggregates each metric over the seeds: the per-seed value
is that seed's mean over its folds; ``mean`` and ``std`` (sample std, ``ddof=1``, stated as
``"std_ddof": 1``) are over seeds, with every seed's value listed (``values``, in ``seeds``
order). A metric no seed could compute is null with its reason (``null_reasons``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from fpgrade.errors import TrainingError
from fpgrade.files import write_json
from fpgrade.training.summary import METRICS, STD_DDOF, stat

SEEDS_FILE = "seeds.json"


def parse_seeds(text: str) -> list[int]:
    """``0,1,2`` -> [0, 1, 2]; one line saying why for anything else."""
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise TrainingError(f"--seeds {text!r}: expected whole numbers separated by commas, e.g. 0,1,2") from None
    if not seeds or len(set(seeds)) != len(seeds):
        raise TrainingError(f"--seeds {text!r}: expected distinct whole numbers, e.g. 0,1,2")
    return seeds


def aggregate(summaries: dict[int, dict]) -> dict:
    """``seeds.json``: each metric over the seeds; see the module docstring."""
    seeds = list(summaries)
    first = summaries[seeds[0]]
    out = {"seeds": seeds, "std_ddof": STD_DDOF, "per_seed": "the seed's mean over its folds",
           **{key: first.get(key) for key in ("model", "scale", "protocol")},
           "synthetic": any(s.get("synthetic") for s in summaries.values()),
           "runs": {str(seed): f"seed_{seed}" for seed in seeds}, "metrics": {}, "null_reasons": {}}
    for name in METRICS:
        values = [(summaries[seed].get(name) or {}).get("mean") for seed in seeds]
        out["metrics"][name] = stat(values)
        if out["metrics"][name] is None:
            out["null_reasons"][name] = (first.get("null_reasons") or {}).get(name, "not computed")
    return out


def train_seeds(*, seeds: list[int], out: Path, config, splits: Path | None = None,
                protocol: str | None = None, **run_options) -> dict:
    """Train every seed into ``out/seed_<s>`` on the same folds, then write ``seeds.json``.
    With ``config.resume``, a seed whose folder holds a run finishes it and the others start."""
    from fpgrade.training.run import train_run

    out = Path(out).resolve()
    summaries: dict[int, dict] = {}
    shared = splits
    for seed in seeds:
        folder = out / f"seed_{seed}"
        resume = config.resume and (folder / "run.json").is_file()
        summary = train_run(out=folder, config=replace(config, seed=seed, resume=resume),
                            splits=shared, protocol=protocol, **run_options)
        if shared is None:  # written by rank 0 before it trained (every rank waited for it)
            shared = folder / "splits.json"
        if "rank" not in summary:  # a non-zero rank of a torchrun launch: rank 0 reports
            summaries[seed] = summary
    if not summaries:
        return {"rank": 1}
    result = aggregate(summaries)
    write_json(out / SEEDS_FILE, result)
    return result
