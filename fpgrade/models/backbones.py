"""Backbones (timm, torchvision) with pretrained weights from a local file, never a hub.

The file comes from the caller (``--backbone-weights``) or, per backbone name, from the setting
``FPGRADE_BACKBONE_WEIGHTS`` (JSON). Without a file, the backbone starts from random weights and
says so once per backbone (a :class:`RandomBackboneWarning`): results from random backbones are
not comparable with the papers'.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from fpgrade.errors import WeightsError

_ANNOUNCED: set[str] = set()


class RandomBackboneWarning(UserWarning):
    """A backbone was built without pretrained weights."""


def configured_weights(name: str, given: str | Path | None) -> str | Path | None:
    """``given``, else the file named for backbone ``name`` in ``FPGRADE_BACKBONE_WEIGHTS``."""
    if given is not None:
        return given
    from fpgrade.settings import get_settings

    return get_settings().backbone_weights.get(name)


def announce_random(name: str) -> None:
    if name not in _ANNOUNCED:
        _ANNOUNCED.add(name)
        message = (f"{name}: no pretrained weights given (--backbone-weights FILE); "
                   "starting from random weights")
        warnings.warn(message, RandomBackboneWarning, stacklevel=3)


def _check_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: backbone weight file not found")
    return path


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors of a ``.safetensors`` file, or of a ``.pth``/``.pt``/``.bin`` file read with
    ``weights_only=True`` (tensors and plain containers only: no code is unpickled)."""
    path = _check_file(path)
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a damaged file to the user
        raise WeightsError(f"{path}: cannot read weights ({type(exc).__name__}: {exc})") from exc
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise WeightsError(f"{path}: not a state dict")
    return state


def timm_backbone(name: str, weights: str | Path | None = None, **kwargs) -> torch.nn.Module:
    """``timm.create_model(name, **kwargs)``, ImageNet weights from the local file ``weights``."""
    import timm

    weights = configured_weights(name, weights)
    if weights is None:
        announce_random(name)
        return timm.create_model(name, pretrained=False, **kwargs)
    path = _check_file(weights)
    try:
        return timm.create_model(name, pretrained=True,
                                 pretrained_cfg_overlay={"file": str(path)}, **kwargs)
    except (RuntimeError, KeyError, ValueError) as exc:
        raise WeightsError(f"{path}: not weights for {name} ({exc})") from exc


def load_into(module: torch.nn.Module, weights: str | Path, name: str,
              skip_prefixes: tuple[str, ...] = ()) -> None:
    """Load a local state dict into ``module`` (keys under ``skip_prefixes`` ignored, e.g. the
    original classifier); any other missing or unexpected key is an error naming the file."""
    state = {k: v for k, v in read_state_dict(weights).items() if not k.startswith(skip_prefixes)}
    own = {k for k in module.state_dict() if not k.startswith(skip_prefixes)}
    missing, unexpected = own - set(state), set(state) - own
    if missing or unexpected:
        raise WeightsError(
            f"{weights}: not weights for {name} (missing {sorted(missing)[:3]}, "
            f"unexpected {sorted(unexpected)[:3]})"
        )
    try:
        module.load_state_dict(state, strict=False)
    except RuntimeError as exc:
        raise WeightsError(f"{weights}: shapes do not fit {name} ({exc})") from exc
