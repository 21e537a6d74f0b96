"""Optimisers and learning-rate schedules from a model card's ``recipe`` (torch's own classes).

Recipe keys: ``optimizer`` (sgd, rmsprop, adam, adamw), ``lr``, ``momentum``, ``weight_decay``,
``alpha`` and ``eps`` (RMSProp), ``schedule`` (poly, step, constant) with ``power`` (poly) or
``step_epochs`` and ``gamma`` (step), ``epochs``, ``batch_size``, ``loss`` (``ce`` or
``weighted_ce``), ``sampler`` (``shuffle`` or ``balanced``). Schedules step once per epoch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import torch

from fpgrade.errors import PluginError
from fpgrade.model_api import RECIPE_OPTIMIZERS, RECIPE_SCHEDULES


def make_optimizer(recipe: Mapping[str, Any], params: Iterable[torch.nn.Parameter]) -> torch.optim.Optimizer:
    name = recipe.get("optimizer", "adam").lower()
    lr = float(recipe.get("lr", 1e-3))
    decay = float(recipe.get("weight_decay", 0.0))
    params = [p for p in params if p.requires_grad]
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=float(recipe.get("momentum", 0.9)),
                               weight_decay=decay)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=float(recipe.get("alpha", 0.9)),
                                   momentum=float(recipe.get("momentum", 0.9)),
                                   eps=float(recipe.get("eps", 0.1)), weight_decay=decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=decay)
    if name == "adamw":  # decoupled weight decay (Loshchilov & Hutter 2019); torch's default 0.01
        return torch.optim.AdamW(params, lr=lr, weight_decay=float(recipe.get("weight_decay", 0.01)))
    raise PluginError(f"unknown optimizer {name!r} in the model's recipe "
                      f"(known: {', '.join(RECIPE_OPTIMIZERS)})")


def make_schedule(recipe: Mapping[str, Any], optimizer: torch.optim.Optimizer, epochs: int):
    kind = recipe.get("schedule", "constant")
    if kind == "poly":
        return torch.optim.lr_scheduler.PolynomialLR(optimizer, total_iters=max(1, epochs),
                                                     power=float(recipe.get("power", 0.9)))
    if kind == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=int(recipe.get("step_epochs", 30)),
                                               gamma=float(recipe.get("gamma", 0.1)))
    if kind == "constant":
        return torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0)
    raise PluginError(f"unknown schedule {kind!r} in the model's recipe "
                      f"(known: {', '.join(RECIPE_SCHEDULES)})")


def optimisers_from_recipe(recipe: Mapping[str, Any], network: torch.nn.Module, epochs: int):
    optimizer = make_optimizer(recipe, network.parameters())
    return [optimizer], make_schedule(recipe, optimizer, epochs)
