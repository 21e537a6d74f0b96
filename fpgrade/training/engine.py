"""The training engine: one fold of one model, every paper's recipe.

- Device: CUDA when present (bf16 autocast; channels_last for 2D convolutions and image inputs,
  channels_last_3d for 3D ones), else CPU (float32); the log's first line says which.
- Multi-GPU: launched by ``torchrun`` (WORLD_SIZE > 1), the network is wrapped in
  DistributedDataParallel once per training stage (a stage trains its own set of parameters, and
  DDP fixes that set when it is built) and each process reads its shard (DistributedSampler);
  only rank 0 writes files and shows progress; after a stage every rank loads that stage's best
  weights once rank 0 has written them (a barrier).
- Why our own loop rather than Lightning Fabric or Accelerate: the loop is short, and what it must
  do is specific (per-stage trainable sets, two optimisers with gradient surgery between backward
  and step for paper 004, per-stage best weights); a library would add a dependency outside the
  verified set for the device, precision and DDP handling that is a few lines here.
- Each epoch ends with a checkpoint (``last.safetensors`` + ``state.pt`` with the optimiser and
  scheduler states, read back with ``weights_only=True``); ``resume`` continues from it. The best
  epoch on the validation set (``select_metric``: macro F1 by default, then accuracy, see
  :mod:`fpgrade.training.selection`; lowest loss for a segmentation stage) is kept as
  ``best.safetensors`` with its card.
- Seeds are fixed (Python, NumPy, torch) and augmentation draws depend on (seed, epoch, index).
- Recipes: the model card's optimiser and schedule, with ``--lr`` applied to the recipe before the
  model builds its optimisers; class-weighted cross entropy where the recipe says ``weighted_ce``
  (paper 000), class-balanced sampling where it says ``balanced`` (paper 004). The augmentation
  is the model's own declaration (:attr:`GradingModel.augmentation`).
- Progress: a live bar on stderr when it is a terminal, else one plain line per epoch.
"""

from __future__ import annotations

import errno
import os
import pickle
import random
import shutil
import sys
import warnings
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from safetensors import SafetensorError
from torch.utils.data import DataLoader, DistributedSampler, WeightedRandomSampler

from fpgrade import __version__
from fpgrade.errors import NoSpaceError, TrainingError
from fpgrade.files import replacing, write_json
from fpgrade.model_api import GradingModel
from fpgrade.models import weights as weight_files
from fpgrade.models.backbones import RandomBackboneWarning
from fpgrade.models.losses import inverse_frequency_weights
from fpgrade.scales import GradingScale
from fpgrade.training.data import GradingDataset, Item


@dataclass
class TrainConfig:
    epochs: int
    batch_size: int | None = None
    seed: int = 0
    device: str | None = None
    resume: bool = False
    workers: int = 0
    backbone_weights: str | None = None
    lr: float | None = None
    options: dict[str, Any] = field(default_factory=dict)
    show_progress: bool = True
    #: written into every weight card of the run (e.g. ``{"synthetic": True}``)
    card_extra: dict[str, Any] = field(default_factory=dict)
    #: fine-tune: start from these trained weights (same model and scale; ignored on resume,
    #: where the checkpoint holds newer ones)
    init_weights: str | None = None
    #: the validation metric that chooses the kept epoch (:mod:`fpgrade.training.selection`)
    select_metric: str = "macro_f1"


@dataclass
class FoldResult:
    best_path: Path
    best_epoch: int
    best_score: float
    history: list[dict[str, Any]]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def select_device(requested: str | None = None) -> torch.device:
    """The device asked for, else CUDA when present, else the CPU. Under torchrun each process
    takes the GPU of its LOCAL_RANK, also when only ``cuda`` (no index) is asked for: every rank
    on GPU 0 would share one GPU (NCCL refuses two ranks on one device)."""
    local = int(os.environ.get("LOCAL_RANK", 0))
    if requested and not requested.startswith("cuda"):
        return torch.device(requested)
    if requested and not torch.cuda.is_available():
        raise TrainingError(f"device {requested!r} asked for, but CUDA is not available")
    if not torch.cuda.is_available():
        return torch.device("cpu")
    device = torch.device(requested or "cuda")
    if device.index is None:
        count = torch.cuda.device_count()
        if local >= count:
            raise TrainingError(f"LOCAL_RANK {local} needs GPU {local}, but this machine has {count}: "
                                f"start at most {count} process(es) per node (--nproc_per_node)")
        device = torch.device("cuda", local)
    elif int(os.environ.get("WORLD_SIZE", 1)) > 1 and device.index != local:
        raise TrainingError(f"--device {requested} under torchrun: each process takes the GPU of its "
                            f"LOCAL_RANK (this one: cuda:{local}); pass --device cuda, or choose the "
                            "GPUs with CUDA_VISIBLE_DEVICES")
    return device


def distributed() -> tuple[int, int]:
    """(rank, world size); joins the process group when started by torchrun with several
    processes. The group has a backend for each device type (NCCL for CUDA tensors, gloo for CPU
    tensors), so ``--device cpu`` also works on a GPU machine; each process binds its own GPU
    first (LOCAL_RANK), as NCCL needs."""
    world = int(os.environ.get("WORLD_SIZE", 1))
    if world > 1 and not dist.is_initialized():
        if torch.cuda.is_available():
            local = int(os.environ.get("LOCAL_RANK", 0))
            if local < torch.cuda.device_count():
                torch.cuda.set_device(local)
            dist.init_process_group("cpu:gloo,cuda:nccl")
        else:
            dist.init_process_group("gloo")
    return (dist.get_rank(), world) if world > 1 else (0, 1)


def memory_format(network: torch.nn.Module) -> torch.memory_format | None:
    """The channels-last format for a network's convolution weights on CUDA: ``channels_last``
    for 2D convolutions (4D weights), ``channels_last_3d`` for 3D ones (5D weights), None for a
    network with neither or with both (``channels_last`` cannot be applied to a 5D tensor)."""
    ranks = {p.dim() for p in network.parameters() if p.dim() in (4, 5)}
    if ranks == {4}:
        return torch.channels_last
    if ranks == {5}:
        return torch.channels_last_3d
    return None


def _autocast(device: torch.device):
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return nullcontext()


def _to_device(batch: dict[str, torch.Tensor], device: torch.device, layouts: dict[str, str],
               channels_last: bool = True):
    out = {}
    for key, value in batch.items():
        value = value.to(device, non_blocking=True)
        if channels_last and device.type == "cuda" and layouts.get(key) == "image":
            value = value.contiguous(memory_format=torch.channels_last)
        out[key] = value
    return out


def forward(network, model: type[GradingModel], batch: dict[str, torch.Tensor]):
    return network(*(batch[key] for key in model.input_keys))


def card_for(model: type[GradingModel], scale: GradingScale, config: TrainConfig, **extra) -> dict:
    return {
        "id": model.card.id, "scale": scale.id, "codes": list(scale.codes),
        "fpgrade_version": __version__, "options": config.options,
        "backbone_weights": config.backbone_weights, "lr": config.lr,
        "select_metric": config.select_metric,
        "model_card": model.card.as_dict(), **extra,
    }


class Trainer:
    """Trains one fold; see the module docstring."""

    def __init__(self, model: type[GradingModel], scale: GradingScale, out_dir: Path,
                 config: TrainConfig, description: str = "", local: bool = False) -> None:
        """:param description: what the progress shows before the model id (e.g. "fold 2/5").
        :param local: this process alone (evaluation after a torchrun training, whose process
            group is gone): never joins a process group."""
        self.model, self.scale, self.out_dir, self.config = model, scale, Path(out_dir), config
        self.description = f"{description} " if description else ""
        self.rank, self.world = (0, 1) if local else distributed()
        self.device = select_device(config.device)
        #: the card's recipe with the user's overrides; the model's optimisers read it
        self.recipe = dict(model.card.recipe)
        if config.lr is not None:  # overrides the paper's rate (small data sets often need it)
            self.recipe["lr"] = config.lr
        self.batch_size = config.batch_size or int(self.recipe.get("batch_size", 16))
        seed_everything(config.seed)
        with warnings.catch_warnings():
            if config.init_weights or config.resume or config.epochs == 0:  # every weight is
                warnings.simplefilter("ignore", RandomBackboneWarning)      # replaced: no news
            network = model.build(scale.id, num_classes=len(scale),
                                  backbone_weights=config.backbone_weights, **config.options)
        if config.init_weights and not config.resume:
            from fpgrade.models import weights as weight_files

            loaded = weight_files.load(Path(config.init_weights), model_id=model.card.id,
                                       scale=scale.id, codes=scale.codes)
            weight_files.load_into(network, loaded)
        network = network.to(self.device)
        self.memory_format = memory_format(network) if self.device.type == "cuda" else None
        if self.memory_format is not None:
            network = network.to(memory_format=self.memory_format)
        self.network = network
        self.ddp = None

    def precision(self) -> str:
        """Where and how it trains, in words (the log's first line)."""
        words = f"{self.device}, " + ("bf16 autocast" if self.device.type == "cuda" else "float32")
        if self.memory_format is not None:
            words += f", {str(self.memory_format).removeprefix('torch.')}"
        if self.world > 1:
            words += f", DistributedDataParallel over {self.world} processes (rank {self.rank})"
        return words

    @property
    def main(self) -> bool:
        return self.rank == 0

    def _loader(self, dataset: GradingDataset, train: bool) -> DataLoader:
        sampler, shuffle = None, False
        if self.world > 1 and train:  # validation sees the whole set on every rank
            sampler = DistributedSampler(dataset, shuffle=train, seed=self.config.seed)
        elif train and self.recipe.get("sampler") == "balanced":
            labels = torch.tensor(dataset.labels())
            counts = torch.bincount(labels, minlength=len(self.scale)).float()
            sampler = WeightedRandomSampler((1.0 / counts[labels]).double(), len(labels),
                                            generator=torch.Generator().manual_seed(self.config.seed))
        else:
            shuffle = train
        size = self.batch_size if train else int(self.recipe.get("eval_batch_size", self.batch_size))
        return DataLoader(dataset, batch_size=size, shuffle=shuffle, sampler=sampler,
                          num_workers=self.config.workers, drop_last=train and len(dataset) > size,
                          generator=torch.Generator().manual_seed(self.config.seed) if shuffle else None,
                          pin_memory=self.device.type == "cuda")

    def _wrap_for_stage(self) -> None:
        """Wrap the network in DistributedDataParallel again for a stage: DDP records the
        parameters that need gradients when it is built, and each stage trains other ones (as
        torchvision's reference scripts do, ``self.network`` stays the plain module for saving)."""
        self.ddp = None
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index] if self.device.type == "cuda" else None
            self.ddp = DistributedDataParallel(self.network, device_ids=ids,
                                               find_unused_parameters=False)

    def _wrapped(self):
        return self.ddp if self.ddp is not None else self.network

    def _barrier(self) -> None:
        if self.world > 1:
            dist.barrier()

    def evaluate(self, dataset: GradingDataset, stage: str = "grade") -> tuple[np.ndarray, float]:
        """Class probabilities of every item and the mean loss."""
        loader = self._loader(dataset, train=False)
        self.network.eval()
        probabilities, losses = [], []
        with torch.no_grad():
            for batch in loader:
                batch = _to_device(batch, self.device, self.model.input_layouts,
                                   self.memory_format == torch.channels_last)
                with _autocast(self.device):
                    outputs = forward(self.network, self.model, batch)
                    loss = self.model.loss(self.network, outputs, batch, None, stage)
                losses.append(loss.item())
                probabilities.append(torch.softmax(outputs["logits"].float(), dim=1).cpu())
        return torch.cat(probabilities).numpy(), float(np.mean(losses)) if losses else float("nan")

    def fit(self, train_items: list[Item], val_items: list[Item]) -> FoldResult:
        from fpgrade.training.metrics import compute_metrics
        from fpgrade.training.selection import epoch_score, metric_value

        self.out_dir.mkdir(parents=True, exist_ok=True)
        if self.main and self.config.show_progress:
            print(f"{self.description}{self.model.card.id}: training on {self.precision()}",
                  file=sys.stderr, flush=True)
        train_set = GradingDataset(train_items, self.model, self.scale, train=True, seed=self.config.seed)
        val_set = GradingDataset(val_items, self.model, self.scale, train=False)
        class_weights = None
        if self.recipe.get("loss") == "weighted_ce":
            class_weights = inverse_frequency_weights(train_set.labels(), len(self.scale)).to(self.device)
        state = self._resume_state()
        history: list[dict[str, Any]] = state.get("history", [])
        best = {"score": -float("inf"), "epoch": -1}  # of the grade stage, the one that is kept
        stages = self.model.stages()
        start_stage = stages.index(state["stage"]) if "stage" in state else 0
        for stage in stages[start_stage:]:
            self.model.prepare_stage(self.network, stage)
            self._wrap_for_stage()
            optimisers, schedule = self.model.optimisers(self.network, stage, self.config.epochs,
                                                         self.recipe)
            first_epoch = 0
            if state.get("stage") == stage:
                for optimiser, saved in zip(optimisers, state["optimisers"]):
                    optimiser.load_state_dict(saved)
                schedule.load_state_dict(state["schedule"])
                first_epoch = state["epoch"] + 1
            # a stage resumed mid-way keeps the best it had found; any other starts afresh
            stage_best = state["best"] if state.get("stage") == stage else {"score": -float("inf"),
                                                                              "epoch": -1}
            loader = self._loader(train_set, train=True)
            label = f"{self.description}{self.model.card.id} {stage}"
            with self._progress() as progress:
                epochs_task = progress.add_task(label, total=self.config.epochs, completed=first_epoch)
                for epoch in range(first_epoch, self.config.epochs):
                    train_set.epoch = epoch
                    if isinstance(loader.sampler, DistributedSampler):
                        loader.sampler.set_epoch(epoch)
                    train_loss = self._train_epoch(loader, optimisers, class_weights, stage, progress)
                    schedule.step()
                    probabilities, val_loss = self.evaluate(val_set, stage)
                    truth = val_set.labels()
                    metrics = compute_metrics(truth, probabilities, self.scale)
                    if stage == "grade":
                        score = epoch_score(self.config.select_metric, metrics)
                    else:
                        score = -val_loss
                    record = {"stage": stage, "epoch": epoch, "train_loss": train_loss,
                              "val_loss": val_loss, "val_accuracy": metrics["accuracy"],
                              "val_macro_f1": metrics["macro"]["f1"],
                              f"val_{self.config.select_metric}":
                                  metric_value(self.config.select_metric, metrics),
                              "lr": optimisers[0].param_groups[0]["lr"]}
                    history.append(record)
                    improved = score > stage_best["score"]
                    if improved:
                        stage_best = {"score": score, "epoch": epoch}
                    if self.main:
                        self._checkpoint(stage, epoch, optimisers, schedule, history, stage_best, improved)
                    line = (f"{label} epoch {epoch + 1}/{self.config.epochs}: loss {train_loss:.3f}, "
                            f"val loss {val_loss:.3f}, val acc {metrics['accuracy']:.3f}, "
                            f"val macro F1 {metrics['macro']['f1']:.3f}" + (" (best)" if improved else ""))
                    progress.update(epochs_task, advance=1, description=line)
                    self._log_line(progress, line)
            if stage == "grade":
                best = stage_best
            else:  # every rank starts the next stage from this stage's best weights
                self._barrier()  # rank 0 has written them
                loaded = weight_files.load(self.out_dir / f"best_{stage}.safetensors")
                weight_files.load_into(self.network, loaded)
            state = {}
        if self.main:
            write_json(self.out_dir / "history.json", history)
        return FoldResult(self.out_dir / "best.safetensors", best["epoch"], best["score"], history)

    def _train_epoch(self, loader, optimisers, class_weights, stage, progress) -> float:
        network = self._wrapped()
        network.train()
        losses = []
        task = progress.add_task("  batches", total=len(loader))
        for batch in loader:
            batch = _to_device(batch, self.device, self.model.input_layouts,
                               self.memory_format == torch.channels_last)
            for optimiser in optimisers:
                optimiser.zero_grad(set_to_none=True)
            with _autocast(self.device):
                outputs = forward(network, self.model, batch)
                loss = self.model.loss(self.network, outputs, batch, class_weights, stage)
            if not torch.isfinite(loss):
                raise TrainingError(f"{self.model.card.id}: the loss became {float(loss)} "
                                    "(learning rate too high for this data?)")
            loss.backward()
            self.model.before_step(self.network, stage)
            for optimiser in optimisers:
                optimiser.step()
            losses.append(loss.item())
            progress.update(task, advance=1)
        progress.remove_task(task)
        return float(np.mean(losses)) if losses else float("nan")

    def _progress(self) -> Progress:
        """A live bar on stderr when it is a terminal; stdout stays for results (``--json``)."""
        console = Console(stderr=True)
        return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeRemainingColumn(), transient=True, console=console,
                        disable=not (self.main and self.config.show_progress and console.is_terminal))

    def _log_line(self, progress: Progress, line: str) -> None:
        """Piped or logged (no terminal for a bar): one plain line per epoch instead."""
        if self.main and self.config.show_progress and not progress.console.is_terminal:
            print(line, file=sys.stderr, flush=True)

    def _card(self, stage: str, epoch: int) -> dict:
        return card_for(self.model, self.scale, self.config, stage=stage, epoch=epoch,
                        **self.config.card_extra)

    def _checkpoint(self, stage, epoch, optimisers, schedule, history, best, improved) -> None:
        """Best and last weights first, ``state.pt`` last: the state is the commit point, so a
        run killed at any moment resumes from a state whose weight files are all written.

        A write that fails (a full disk: ``OSError`` ENOSPC from Python and safetensors, but
        ``RuntimeError: basic_ios::clear`` or "file write failed" from ``torch.save``) leaves the
        previous checkpoint whole and stops training with one line saying what to do."""
        try:
            self._write_checkpoint(stage, epoch, optimisers, schedule, history, best, improved)
        except (OSError, RuntimeError, SafetensorError) as exc:
            raise checkpoint_failure(self.out_dir, epoch, exc, self.network) from exc

    def _write_checkpoint(self, stage, epoch, optimisers, schedule, history, best, improved) -> None:
        card = self._card(stage, epoch)
        if improved:
            name = "best.safetensors" if stage == "grade" else f"best_{stage}.safetensors"
            weight_files.save(self.out_dir / name, self.network, card)
        weight_files.save(self.out_dir / "last.safetensors", self.network, card)
        with replacing(self.out_dir / "state.pt") as temporary:
            torch.save({"stage": stage, "epoch": epoch, "history": history, "best": best,
                        "optimisers": [o.state_dict() for o in optimisers],
                        "schedule": schedule.state_dict()}, temporary)

    def _resume_state(self) -> dict:
        last, state_file = self.out_dir / "last.safetensors", self.out_dir / "state.pt"
        if not self.config.resume:
            return {}
        if not (last.is_file() and state_file.is_file()):
            raise TrainingError(f"{self.out_dir}: nothing to resume (no last.safetensors/state.pt)")
        loaded = weight_files.load(last, model_id=self.model.card.id, scale=self.scale.id,
                                   codes=self.scale.codes)
        weight_files.load_into(self.network, loaded)
        try:
            state = torch.load(state_file, map_location="cpu", weights_only=True)
        except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise TrainingError(f"{state_file}: not a checkpoint fpgrade can resume from ({first}); "
                                f"delete {self.out_dir} to train that fold again") from exc
        if not isinstance(state, dict) or not {"stage", "epoch", "optimisers"} <= set(state):
            raise TrainingError(f"{state_file}: not a checkpoint written by fpgrade; "
                                f"delete {self.out_dir} to train that fold again")
        return state


def checkpoint_failure(out_dir: Path, epoch: int, exc: BaseException,
                       network: torch.nn.Module) -> Exception:
    """The one-line error for a checkpoint of ``out_dir`` that could not be written: "no space
    left" when the disk is full (said by errno, or by less free space than a checkpoint takes:
    ``torch.save`` reports a full disk without an errno), else the first line of the error."""
    needed = 3 * sum(t.numel() * t.element_size() for t in network.state_dict().values())
    try:
        full = shutil.disk_usage(out_dir).free < needed
    except OSError:
        full = False
    if getattr(exc, "errno", None) in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)) or full:
        return NoSpaceError(f"no space left on the device holding {out_dir} (checkpoint of epoch "
                            f"{epoch + 1} not written; the previous one is kept): free some space, "
                            "then run the same command with --resume")
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return TrainingError(f"{out_dir}: the checkpoint of epoch {epoch + 1} could not be written "
                         f"({first}); the previous one is kept: fix that, then run the same "
                         "command with --resume")
