"""``fpgrade compare``: the paper's comparison table of trained runs (issue 22)."""

from __future__ import annotations

from pathlib import Path

import typer

from fpgrade.cli.console import console, print_json
from fpgrade.errors import FpgradeError
from fpgrade.registry import get_registry


def compare(
    runs: list[Path] = typer.Argument(None, metavar="RUN...",
                                      help="Run folders written by fpgrade train (same scale, folds and samples)."),
    out: Path | None = typer.Option(None, "--out", metavar="FOLDER",
                                    help="Write table.md, table.csv, pairs.csv, table.tex, comparison.json "
                                         "and report.html here (with --models: also the runs, in FOLDER/runs)."),
    bootstrap: int = typer.Option(2000, "--bootstrap", min=100, metavar="N",
                                  help="Subject-clustered bootstrap resamples for the 95% intervals."),
    permutations: int = typer.Option(2000, "--permutations", min=100, metavar="N",
                                     help="Permutations of the paired tests."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap and the permutations."),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as JSON."),
    models: str | None = typer.Option(None, "--models", metavar="A,B,C",
                                      help="Train these models on one split first (needs --data, --epochs and --out)."),
    data: str | None = typer.Option(None, "--data", metavar="MANIFEST.csv|db|URL",
                                    help="With --models: the data to train on."),
    protocol: str | None = typer.Option(None, "--protocol", metavar="PROTOCOL",
                                        help="With --models: kfold:K | loso | split:A:B:C | subject:A:B:C "
                                             "(default: the first model's paper's)."),
    scale: str | None = typer.Option(None, "--scale", help="With --models: the scale (default: the first "
                                                           "model's own, if every model has it)."),
    epochs: int | None = typer.Option(None, "--epochs", min=1, metavar="N", help="With --models: epochs per fold."),
    batch_size: int | None = typer.Option(None, "--batch-size", min=1, metavar="N",
                                          help="With --models (default: each paper's)."),
    train_seed: int = typer.Option(0, "--train-seed", help="With --models: the training seed."),
    seeds: str | None = typer.Option(None, "--seeds", metavar="S,S,...",
                                     help="With --models: train each model once per seed (on the same "
                                          "folds) and compare every seed and the mean over seeds."),
    select_metric: str = typer.Option("macro_f1", "--select-metric", metavar="macro_f1|qwk|accuracy|mae",
                                      help="With --models: validation metric that chooses the kept epoch."),
    lr: float | None = typer.Option(None, "--lr", help="With --models: override the papers' learning rates."),
    device: str | None = typer.Option(None, "--device", help="With --models: cpu, cuda, cuda:1."),
    resume: bool = typer.Option(False, "--resume", help="With --models: finish the runs already in FOLDER/runs."),
) -> None:
    """Compare models on the same out-of-fold predictions: metrics with 95% intervals (subject
    bootstrap), paired tests (McNemar, permutation), tables and a report."""
    from fpgrade.compare.analysis import compare as make_comparison
    from fpgrade.compare.loading import load_run
    from fpgrade.compare.outputs import write_all
    from fpgrade.compare.tables import markdown

    registry = get_registry()
    runs = list(runs or [])
    if out is not None and out.exists() and not out.is_dir():
        raise FpgradeError(f"--out {out}: a file, not a folder")
    if models is not None:
        if runs:
            raise FpgradeError("give run folders or --models, not both")
        if not data or out is None or epochs is None:
            raise FpgradeError("--models needs --data, --epochs and --out")
        from fpgrade.compare.training import train_models
        from fpgrade.training.engine import TrainConfig

        from fpgrade.training.seeds import parse_seeds

        if seeds is not None and train_seed != 0:
            raise FpgradeError("--train-seed and --seeds exclude each other: give the seeds in --seeds")
        config = TrainConfig(epochs=epochs, batch_size=batch_size, seed=train_seed, device=device, lr=lr,
                             resume=resume, select_metric=select_metric)
        runs = train_models(registry=registry, models=[m.strip() for m in models.split(",") if m.strip()],
                            data=data, protocol=protocol, out=out, config=config, scale_id=scale,
                            seeds=parse_seeds(seeds) if seeds is not None else None)
    else:
        given = [name for name, value in (("--data", data), ("--protocol", protocol), ("--scale", scale),
                                          ("--epochs", epochs), ("--seeds", seeds)) if value is not None]
        if given:
            raise FpgradeError(f"{', '.join(given)} only go with --models")
        if len(runs) < 2:
            raise FpgradeError("compare needs at least two run folders (or --models a,b)")
    loaded = [load_run(folder) for folder in runs]
    scale_obj = registry.scale(loaded[0].scale)
    comparison = make_comparison(loaded, ordinal=scale_obj.ordinal, scale_name=scale_obj.id,
                                 resamples=bootstrap, seed=seed, permutations=permutations)
    if out is not None:
        write_all(comparison, out)
    if as_json:
        print_json(comparison)
        return
    console.print(markdown(comparison), markup=False, highlight=False)
    if out is not None:
        console.print(f"tables and report: {Path(out).resolve()}", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(compare)
