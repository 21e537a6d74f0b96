"""The four hooks a plugin can implement. The one way in for every plugin, built-ins included.

A plugin is a module named by an entry point in the ``fpgrade`` group::

    [project.entry-points.fpgrade]
    my_scales = "my_package.scales"

whose functions are marked with :data:`hookimpl`. Each ``register_*`` hook receives a
``register`` callback: the host validates and stores what it is given, the plugin never touches
global state. A plugin whose hook raises or registers something invalid (a taken id, a model
that cannot train) is left out whole and listed by ``fpgrade plugins`` with the reason; the
others load (:mod:`fpgrade.registry`). See ``docs/plugins.md`` for a complete minimal plugin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import typer

    from fpgrade.model_api import GradingModel
    from fpgrade.preprocess_api import Preprocessor
    from fpgrade.scales import GradingScale

PROJECT = "fpgrade"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_scales(register: Callable[[GradingScale], None]) -> None:
    """Register grading scales.

    :param register: call it once per scale with a :class:`fpgrade.scales.GradingScale` (ordered
        levels, what a network predicts) or a :class:`fpgrade.scales.CompositeScale` (items with
        their own ranges and a formula, such as Sunnybrook or eFACE, filled in on a form). The
        scale's ``id`` must be unique across all loaded plugins, whatever its kind.
    """


@hookspec
def register_preprocessors(register: Callable[[type[Preprocessor]], None]) -> None:
    """Register preprocessors (face detection, landmarks, crops, frame sampling, measurements).

    :param register: call it once per preprocessor class, a subclass of
        :class:`fpgrade.preprocess_api.Preprocessor` with a unique ``id``, the names of the
        results it ``requires`` and ``provides``, and what each provided result is
        (``outputs``: dtype, shape, meaning, model input layout; shown by ``fpgrade
        preprocessors``).
    """


@hookspec
def register_models(register: Callable[[type[GradingModel]], None]) -> None:
    """Register grading models (one per paper for the built-ins).

    :param register: call it once per model class, a subclass of
        :class:`fpgrade.model_api.GradingModel` whose ``card`` (a
        :class:`fpgrade.model_api.ModelCard`) has a unique ``id`` and names registered scales
        and preprocessors, and whose ``input_keys`` registered preprocessors provide
        (:func:`fpgrade.plugin_checks.model_problem`). ``fpgrade models check ID`` smoke-tests it.
    """


@hookspec
def register_commands(cli: typer.Typer) -> None:
    """Add commands to the ``fpgrade`` command line.

    :param cli: a :class:`typer.Typer` application whose commands and groups are added to the
        root one when the hook returns; decorate functions with ``@cli.command()`` or add a
        sub-application with ``cli.add_typer(...)``. A name fpgrade already has is refused.
    """
