"""``fpgrade train``, ``evaluate``, ``predict`` and ``synth``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from fpgrade.cli.console import console, err_console, print_json
from fpgrade.errors import FpgradeError
from fpgrade.registry import get_registry


def _options(values: list[str]) -> dict:
    options = {}
    for value in values:
        key, sep, raw = value.partition("=")
        if not sep:
            raise FpgradeError(f"--option {value!r}: expected KEY=VALUE")
        try:
            options[key] = json.loads(raw)
        except ValueError:
            options[key] = raw
    return options


def train(
    model: str = typer.Option(..., "--model", metavar="MODEL", help="Model id (fpgrade models)."),
    data: str = typer.Option(..., "--data", metavar="MANIFEST.csv|db|URL",
                             help="Manifest CSV, or 'db' / a database URL."),
    protocol: str = typer.Option("", "--protocol", metavar="PROTOCOL",
                                 help="kfold:K | loso | split:A:B:C | subject:A:B:C (default: the paper's)."),
    epochs: int = typer.Option(..., "--epochs", min=1, metavar="N"),
    out: Path = typer.Option(..., "--out", metavar="RUN_FOLDER",
                             help="Run folder (refused if it holds a run: see --resume, --overwrite)."),
    scale: str | None = typer.Option(None, "--scale", help="Scale to grade (default: the model's first)."),
    batch_size: int | None = typer.Option(None, "--batch-size", min=1),
    seed: int = typer.Option(0, "--seed"),
    seeds: str | None = typer.Option(None, "--seeds", metavar="S,S,...",
                                     help="Train once per seed into RUN/seed_<s>/ on the same folds, "
                                          "then aggregate over seeds (RUN/seeds.json)."),
    select_metric: str = typer.Option("macro_f1", "--select-metric",
                                      metavar="macro_f1|qwk|accuracy|mae",
                                      help="Validation metric that chooses the kept epoch (mae: lower "
                                           "is better; qwk and mae need an ordinal scale)."),
    lr: float | None = typer.Option(None, "--lr", help="Override the paper's learning rate."),
    device: str | None = typer.Option(None, "--device", help="cpu, cuda, cuda:1 (default: CUDA if present)."),
    backbone_weights: Path | None = typer.Option(None, "--backbone-weights",
                                                 help="Local ImageNet/Kinetics weights of the backbone."),
    splits: Path | None = typer.Option(None, "--splits", metavar="OLD_RUN/splits.json",
                                       help="Reuse the folds of an earlier run."),
    resume: bool = typer.Option(False, "--resume",
                                help="Finish the run in --out: tested folds kept, the others continued."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the run already in --out."),
    fold: list[int] = typer.Option([], "--fold", metavar="INDEX", help="Run only these folds."),
    option: list[str] = typer.Option([], "--option", metavar="KEY=VALUE",
                                     help="Model option KEY=VALUE (e.g. freeze_e2=false)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Train a model under a subject-grouped protocol; checkpoints, best weights, test metrics."""
    from fpgrade.training.engine import TrainConfig
    from fpgrade.training.protocols import check_protocol
    from fpgrade.training.run import train_run

    registry = get_registry()
    model_cls = registry.model(model)
    if protocol:  # before any data; with --splits, the file's protocol unless one is asked
        protocol = check_protocol(protocol)
    elif splits is None:
        protocol = check_protocol(model_cls.card.recipe.get("protocol", "kfold:5"))
    config = TrainConfig(epochs=epochs, batch_size=batch_size, seed=seed, device=device, resume=resume, lr=lr,
                         backbone_weights=str(backbone_weights) if backbone_weights else None,
                         options=_options(option), select_metric=select_metric)
    run_options = dict(registry=registry, model_id=model, data=data, protocol=protocol or None,
                       out=out, config=config, scale_id=scale, splits=splits,
                       folds_to_run=fold or None, overwrite=overwrite)
    if seeds is not None:
        from fpgrade.training.seeds import parse_seeds, train_seeds

        if seed != 0:
            raise FpgradeError("--seed and --seeds exclude each other: give the seeds in --seeds")
        summary = train_seeds(seeds=parse_seeds(seeds), **run_options)
    else:
        summary = train_run(**run_options)
    if "rank" in summary:  # a non-zero rank of a torchrun launch: rank 0 reports
        return
    if as_json:
        print_json(summary)
    elif seeds is not None:
        from fpgrade.cli.run_tables import print_seeds

        print_seeds(summary, f"{model} on {summary['scale']} ({summary['protocol']}), "
                             f"{len(summary['seeds'])} seeds")
        console.print(f"run folder: {out.resolve()}", markup=False, highlight=False)
    else:
        from fpgrade.cli.run_tables import print_summary

        print_summary(summary, f"{model} on {summary['scale']} ({summary['protocol']})")
        console.print(f"run folder: {out.resolve()}", markup=False, highlight=False)


def evaluate(run_dir: Path = typer.Argument(..., metavar="RUN_FOLDER",
                                            help="A run folder written by fpgrade train."),
             data: str | None = typer.Option(
                 None, "--data", metavar="MANIFEST.csv|db|URL",
                 help="Data holding the run's subjects (default: the run's own); or an external "
                      "labelled set, none of whose subjects is in the run: every sample graded by "
                      "each fold's model and by their ensemble (RUN/external_<name>.json)."),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """Evaluate a run's best weights on its test subjects again, or on an external labelled set
    (metrics, confusion matrices)."""
    from fpgrade.training.run import evaluate_run

    summary = evaluate_run(run_dir, get_registry(), data=data)
    if as_json:
        print_json(summary)
    elif summary.get("mode") == "external":
        from fpgrade.cli.run_tables import print_external

        print_external(summary)
    else:
        from fpgrade.cli.run_tables import print_summary

        print_summary(summary, f"{summary['model']} on {summary['scale']} ({summary['protocol']})",
                      "SYNTHETIC data (in the weights' training or in this test): not a clinical result")


def predict(
    paths: list[Path] = typer.Argument(..., metavar="PHOTO_VIDEO_FOLDER_OR_LIST",
                                       help="Photos, videos, folders and lists of files to grade."),
    model: str = typer.Option(..., "--model", metavar="MODEL"),
    weights: Path = typer.Option(..., "--weights", metavar="RUN/fold_0/best.safetensors",
                                 help="A best.safetensors written by fpgrade train."),
    movement: str | None = typer.Option(None, "--movement", metavar="MV0-MV6",
                                        help="The movement shown (crop margins)."),
    strict: bool = typer.Option(False, "--strict", help="Several faces are an error."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Grade photos or videos with trained weights (nothing is stored)."""
    from fpgrade.training.predict import Predictor

    from rich.progress import track

    from fpgrade.batch import collect_inputs, error_line

    paths, problems = collect_inputs(paths)  # folders (recursively) and lists of files too
    results = [{"path": where, "error": line} for where, line in problems]
    for line in problems:
        err_console.print(f"Error: {line[1]}", markup=False, highlight=False)
    try:
        predictor = Predictor(get_registry(), model, weights)
    except FpgradeError as exc:
        if as_json:  # stdout stays JSON: the reason, for every file
            print_json(results + [{"path": str(path), "error": str(exc)} for path in paths])
        raise
    failed = len(problems)
    for path in track(paths, description="Grading", transient=True, console=err_console,
                      disable=len(paths) < 2 or not err_console.is_terminal):
        try:
            results.append(predictor.predict(path, movement, strict))
        except Exception as exc:  # noqa: BLE001  one bad file does not stop the others
            failed += 1
            line = (error_line(path, exc) if isinstance(exc, FpgradeError)
                    else f"{path}: could not be graded ({type(exc).__name__}: {exc})")
            results.append({"path": str(path), "error": line})
            err_console.print(f"Error: {line}", markup=False, highlight=False)
    if as_json:
        print_json(results)
    else:
        table = Table("file", "label", "p", "side", "note", title=f"{model} ({predictor.scale.id})")
        for r in results:
            if "error" in r:
                continue
            note = "unsure: no class stands out" if r["unsure"] else ""
            table.add_row(Text(Path(r["path"]).name), r["label"], f"{r['probabilities'][r['label']]:.3f}",
                          r.get("side", ""), note)
        console.print(table)
        console.print(f"model version {predictor.version}", markup=False, highlight=False)
        if predictor.card.get("synthetic"):
            console.print("these weights were trained on SYNTHETIC data: not a clinical grade",
                          markup=False, highlight=False)
    if failed:
        raise typer.Exit(code=1)


def synth(
    out: Path = typer.Argument(..., metavar="FOLDER", help="New (or empty) folder for the synthetic data set."),
    subjects: int = typer.Option(..., "--subjects", min=1, metavar="N",
                                 help="Number of subjects, each one distinct person of the sources."),
    scale: str = typer.Option("sided7", "--scale", metavar="SCALE", help="Scale of the labels (fpgrade scales)."),
    faces: list[Path] = typer.Option([], "--faces", metavar="PATH",
                                     help="A real face photo or video, or a folder of them (repeatable; "
                                          "default: scikit-image's astronaut, one person)."),
    images_per_subject: int = typer.Option(2, "--images-per-subject", min=1, metavar="N",
                                           help="Photos per subject and visit."),
    visits: int = typer.Option(1, "--visits", min=1, metavar="N",
                               help="Visits per subject, each with its own grade (a person followed "
                                    "over recovery): more labelled samples without more people."),
    videos: bool = typer.Option(False, "--videos", help="Also write a short clip per subject."),
    seed: int = typer.Option(0, "--seed", metavar="N"),
    overwrite: bool = typer.Option(False, "--overwrite",
                                   help="Replace the synthetic data already in FOLDER."),
) -> None:
    """Write a SYNTHETIC palsy data set (real faces, one side warped at graded severities)."""
    from fpgrade.synth import identities_in_photo, make_synthetic, source_identities

    paths: list[Path] = []
    for item in faces:
        if item.is_dir():
            paths += sorted(p for p in item.iterdir() if p.is_file() and not p.name.startswith("."))
        else:
            paths.append(item)
    if faces:
        identities = source_identities(paths)
    else:
        from skimage.data import astronaut

        identities = identities_in_photo("skimage astronaut", astronaut())
    scale_obj = get_registry().scale(scale)
    manifest = make_synthetic(out, scale_obj, subjects, identities, images_per_subject=images_per_subject,
                              seed=seed, videos=videos, overwrite=overwrite, visits=visits)
    console.print(f"SYNTHETIC data: {subjects} subjects, manifest {manifest}")


def retrain(
    scale: str = typer.Option(..., "--scale", metavar="SCALE", help="The scale whose current version is retrained."),
    model: str | None = typer.Option(None, "--model", metavar="MODEL",
                                     help="Model id (default: the current version's; the same model is fine-tuned)."),
    epochs: int = typer.Option(..., "--epochs", min=1, metavar="N"),
    out: Path = typer.Option(..., "--out", metavar="RUN_FOLDER",
                             help="New run folder (or, with --resume, the stopped retrain's)."),
    metric: str = typer.Option("macro_f1", "--metric", help="macro_f1, accuracy or quadratic_weighted_kappa."),
    margin: float = typer.Option(0.0, "--margin", min=0.0,
                                 help="How much worse than the current version the new one may be and still be promoted."),
    batch_size: int | None = typer.Option(None, "--batch-size", min=1),
    seed: int = typer.Option(0, "--seed"),
    lr: float | None = typer.Option(None, "--lr"),
    device: str | None = typer.Option(None, "--device", help="cpu, cuda (default: CUDA if present)."),
    resume: bool = typer.Option(False, "--resume",
                                help="Finish the stopped retrain in --out (same options, same data snapshot)."),
    auto_promote: bool = typer.Option(False, "--auto-promote",
                                      help="Promote a new version that passes without a person "
                                           "(needs --min-test-samples and --min-metric)."),
    min_test_samples: int | None = typer.Option(None, "--min-test-samples", metavar="N",
                                                help="With --auto-promote: the fewest test samples to decide on."),
    min_metric: float | None = typer.Option(None, "--min-metric", metavar="X",
                                            help="With --auto-promote: the lowest --metric value to promote."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Fine-tune the current version of SCALE on the final labels, keeping its test split fixed;
    a new version not worse beyond --margin is a candidate for `fpgrade models promote` (or
    promoted, with --auto-promote), a worse one is rejected."""
    import getpass

    from fpgrade.training.engine import TrainConfig
    from fpgrade.training.retrain import retrain as run_retrain

    result = run_retrain(registry=get_registry(), scale_id=scale, model_id=model, out=out,
                         config=TrainConfig(epochs=epochs, batch_size=batch_size, seed=seed,
                                            device=device, lr=lr, resume=resume),
                         metric=metric, margin=margin, by=f"retrain ({getpass.getuser()})",
                         auto_promote=auto_promote, min_test_samples=min_test_samples,
                         min_metric=min_metric)
    if "rank" in result:
        return
    if as_json:
        print_json(result)
        return
    console.print(f"{result['version']}: {result['status']} ({result['reason']})", markup=False,
                  highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(retrain)
    app.command()(train)
    app.command()(evaluate)
    app.command()(predict)
    app.command()(synth)
