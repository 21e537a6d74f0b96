"""The engine's CUDA and torchrun paths: what can be checked on the CPU runs everywhere, the rest
only where CUDA is (``-k cuda`` on a GPU machine).

Found on the first GPU run (H100): a 3D network (palsynet3d) crashed in ``Trainer`` because
``channels_last`` cannot be applied to 5D weights; ``--device cuda`` under torchrun put every
rank on GPU 0; ``fpgrade retrain`` under torchrun with several processes hung after training
(rank 0 joined a new process group for the comparison, the other ranks had returned).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch import nn

from fpgrade.augmentation import NO_AUGMENTATION
from fpgrade.errors import TrainingError
from fpgrade.model_api import GradingModel, ModelCard
from fpgrade.training import engine
from fpgrade.training.data import Item
from fpgrade.training.engine import TrainConfig, Trainer, memory_format, select_device

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


class _Image(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.head = nn.Linear(4, num_classes)

    def forward(self, x):
        return {"logits": self.head(self.conv(x).mean(dim=(2, 3)))}


class _Clip(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.conv = nn.Conv3d(3, 4, 3, padding=1)
        self.head = nn.Linear(4, num_classes)

    def forward(self, x):
        return {"logits": self.head(self.conv(x).mean(dim=(2, 3, 4)))}


def _model(network, key, layout, shape):
    class Tiny(GradingModel):
        card = ModelCard(id=f"test_tiny_{layout}", name="Tiny", paper="test", scales=("palsy_binary",),
                         input_shape=shape, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25),
                         recipe={"optimizer": "adam", "lr": 0.01, "schedule": "constant",
                                 "batch_size": 4})
        input_keys = (key,)
        input_layouts = {key: layout}
        augmentation = NO_AUGMENTATION

        @classmethod
        def build(cls, scale=None, *, num_classes=None, backbone_weights=None, **options):
            torch.manual_seed(0)
            return network(num_classes or 2)

    return Tiny


ImageModel = _model(_Image, "face", "image", (3, 16, 16))
ClipModel = _model(_Clip, "clip", "clip", (3, 4, 16, 16))


def _items(key, shape, n=8, seed=0):
    rng = np.random.default_rng(seed)
    return [Item({key: rng.integers(0, 255, shape, dtype=np.uint8)}, ("normal", "palsy")[i % 2],
                 f"S{i}", i) for i in range(n)]


def test_the_memory_format_matches_the_convolutions():
    assert memory_format(_Image(2)) is torch.channels_last
    assert memory_format(_Clip(2)) is torch.channels_last_3d
    assert memory_format(nn.Linear(2, 2)) is None
    assert memory_format(nn.Sequential(_Image(2), _Clip(2))) is None
    for network in (_Image(2), _Clip(2)):  # what the engine does on CUDA, here on the CPU
        network.to(memory_format=memory_format(network))
    with pytest.raises(RuntimeError):  # what it did before: every network got channels_last
        _Clip(2).to(memory_format=torch.channels_last)


def test_cuda_under_torchrun_takes_the_gpu_of_its_local_rank(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert select_device("cuda") == torch.device("cuda", 1)
    assert select_device(None) == torch.device("cuda", 1)
    assert select_device("cuda:0") == torch.device("cuda", 0)  # one process: an index is kept
    assert select_device("cpu") == torch.device("cpu")
    monkeypatch.setenv("WORLD_SIZE", "2")  # several: every rank on one GPU would hang NCCL
    assert select_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(TrainingError, match="LOCAL_RANK"):
        select_device("cuda:0")
    monkeypatch.delenv("WORLD_SIZE")
    monkeypatch.setenv("LOCAL_RANK", "2")
    with pytest.raises(TrainingError, match="--nproc_per_node"):
        select_device("cuda")


def test_a_local_trainer_never_joins_a_process_group(monkeypatch, tmp_path):
    monkeypatch.setenv("WORLD_SIZE", "2")  # as torchrun sets it; no rendezvous is reachable

    def refuse(*args, **kwargs):
        raise AssertionError("joined a process group")

    monkeypatch.setattr(engine.dist, "init_process_group", refuse)
    from fpgrade.registry import load_registry

    trainer = Trainer(ImageModel, load_registry().scale("palsy_binary"), tmp_path,
                      TrainConfig(epochs=0, device="cpu"), local=True)
    assert (trainer.rank, trainer.world) == (0, 1)


@cuda
@pytest.mark.parametrize("model, key, shape", [(ImageModel, "face", (16, 16, 3)),
                                               (ClipModel, "clip", (4, 16, 16, 3))])
def test_cuda_training_runs_in_bf16_autocast_and_loads_back_on_the_cpu(model, key, shape, tmp_path):
    from fpgrade.models import weights as weight_files
    from fpgrade.registry import load_registry

    scale = load_registry().scale("palsy_binary")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer = Trainer(model, scale, tmp_path / "fold", TrainConfig(epochs=2, device="cuda",
                                                                       show_progress=False))
    seen = []
    trainer.network.conv.register_forward_hook(lambda module, args, out: seen.append(out.dtype))
    result = trainer.fit(_items(key, shape), _items(key, shape, 4, seed=1))
    assert seen and set(seen) == {torch.bfloat16}
    assert "bf16 autocast" in trainer.precision()
    network = model.build(num_classes=2)
    weight_files.load_into(network, weight_files.load(result.best_path))
    assert all(p.device.type == "cpu" and p.dtype == torch.float32 for p in network.parameters())
