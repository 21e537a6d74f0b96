"""Arrays to tensors by layout, and side-aware augmentation of a multi-input sample."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from fpgrade.errors import PluginError
from fpgrade.face.augment import Sample, augment
from fpgrade.model_api import LAYOUTS, GradingModel
from fpgrade.scales import GradingScale


def to_tensor(array: np.ndarray, layout: str, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """``image`` H,W,3 -> 3,H,W; ``sequence`` T,H,W,3 -> T,3,H,W; ``clip`` T,H,W,3 -> 3,T,H,W
    (all uint8 -> float, normalised by mean/std); ``mask`` H,W -> long class indices;
    ``vector`` -> float as it is."""
    if layout == "mask":
        return torch.as_tensor(np.ascontiguousarray(array), dtype=torch.long)
    if layout == "vector":
        return torch.as_tensor(np.ascontiguousarray(array), dtype=torch.float32)
    tensor = torch.as_tensor(np.ascontiguousarray(array)).float().div_(255.0)
    mean_t = torch.tensor(mean, dtype=torch.float32)
    std_t = torch.tensor(std, dtype=torch.float32)
    tensor = (tensor - mean_t) / std_t  # channels last here
    if layout == "image":
        return tensor.permute(2, 0, 1).contiguous()
    if layout == "sequence":
        return tensor.permute(0, 3, 1, 2).contiguous()
    if layout == "clip":
        return tensor.permute(3, 0, 1, 2).contiguous()
    raise PluginError(f"unknown input layout {layout!r} (known: {', '.join(LAYOUTS)})")


def augment_sample(arrays: Mapping[str, np.ndarray], model: type[GradingModel], label: str,
                   seed: int, scale: GradingScale) -> tuple[dict[str, np.ndarray], str]:
    """The model's augmentation, the same random transform applied to every array of a sample
    (face, regions, mask); a horizontal flip also mirrors a side-aware ``label`` and multiplies a
    vector input by the model's ``mirror_signs``."""
    recipe, layouts = model.augmentation, model.input_layouts
    out: dict[str, np.ndarray] = {}
    new_label = label
    for index, (key, array) in enumerate(arrays.items()):
        if layouts.get(key) == "vector":  # a measurement vector: a flip negates its signed part
            flipped = np.random.default_rng(seed).random() < recipe.flip
            if flipped:
                array = array * np.asarray(model.mirror_signs[key], dtype=array.dtype)
                if index == 0:
                    new_label = scale.flip(label)
            out[key] = array
            continue
        is_mask = layouts.get(key) == "mask"
        image = array[..., None] if is_mask else array
        result = augment(Sample(image, label if index == 0 else None), recipe,
                         np.random.default_rng(seed), scale if index == 0 else None, is_mask=is_mask)
        out[key] = result.image[..., 0] if is_mask else result.image
        if index == 0:
            new_label = result.label
    return out, new_label
