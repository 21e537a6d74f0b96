"""Trained weights: safetensors files with a JSON model card beside them (and inside them).

``save`` writes ``NAME.safetensors`` (tensors, plus the card as metadata) and ``NAME.json``
(the card, human-readable, with the weight file's sha256). ``load`` reads tensors only: a weight
file can never run code. It refuses a file made for another model, another scale, or other
class codes, naming what differs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from fpgrade.errors import WeightsError
from fpgrade.files import replacing, write_json
from fpgrade.media import sha256_file

CARD_KEY = "fpgrade_card"


@dataclass(frozen=True)
class WeightsFile:
    path: Path
    card: dict[str, Any]
    state: dict[str, torch.Tensor]
    sha256: str


def save(path: Path, network: torch.nn.Module, card: dict[str, Any]) -> str:
    """Write the network's weights and card; returns the weight file's sha256."""
    path = Path(path).with_suffix(".safetensors")
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().cpu() for k, v in unwrap(network).state_dict().items()}
    with replacing(path) as temporary:  # a kill mid-write leaves the previous file whole
        save_file(state, str(temporary), metadata={CARD_KEY: json.dumps(card, default=str)})
    digest = sha256_file(path)
    write_json(path.with_suffix(".json"), {**card, "weights_sha256": digest})
    return digest


def unwrap(network: torch.nn.Module) -> torch.nn.Module:
    """The plain module inside DistributedDataParallel or torch.compile wrappers."""
    while hasattr(network, "module") or hasattr(network, "_orig_mod"):
        network = getattr(network, "module", None) or network._orig_mod
    return network


def read_card(path: Path) -> dict[str, Any]:
    """The card stored inside a weight file (its header only: no tensor is read). The ``.json``
    beside it is a copy for people; this is the one that always matches the weights."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(f"{path}: not a safetensors weight file ({exc})") from exc
    if CARD_KEY not in metadata:
        raise WeightsError(f"{path}: no fpgrade model card inside; was it saved by fpgrade?")
    return json.loads(metadata[CARD_KEY])


def load(path: Path, *, model_id: str | None = None, scale: str | None = None,
         codes: tuple[str, ...] | None = None) -> WeightsFile:
    """Read a weight file and check it was made for ``model_id`` / ``scale`` / ``codes``."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: weight file not found")
    card = read_card(path)
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(f"{path}: not a safetensors weight file ({exc})") from exc
    for what, expected, found in (("model", model_id, card.get("id")),
                                  ("scale", scale, card.get("scale"))):
        if expected is not None and expected != found:
            raise WeightsError(f"{path}: weights for {what} {found!r}, not {expected!r}")
    if codes is not None and tuple(card.get("codes", ())) != tuple(codes):
        raise WeightsError(f"{path}: weights for classes {card.get('codes')}, not {list(codes)}")
    return WeightsFile(path, card, state, sha256_file(path))


def load_into(network: torch.nn.Module, weights: WeightsFile) -> None:
    """Load checked weights into a freshly built network (every key must match)."""
    try:
        unwrap(network).load_state_dict(weights.state, strict=True)
    except RuntimeError as exc:
        raise WeightsError(f"{weights.path}: does not fit the {weights.card.get('id')} network "
                           f"({str(exc).splitlines()[0]})") from exc
