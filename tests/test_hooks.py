"""One test per hook (``test_hook_<name>``), and the guards that keep it that way."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from fpgrade import hookspecs
from fpgrade.cli import main
from fpgrade.registry import get_registry

ROOT = Path(__file__).resolve().parents[1]
HOOKS = sorted(
    name for name, fn in vars(hookspecs).items()
    if callable(fn) and hasattr(fn, "fpgrade_spec")
)


def test_hook_register_scales(install_plugin):
    install_plugin(
        "scales",
        """
        from fpgrade.hookspecs import hookimpl
        from fpgrade.scales import GradingScale, Level

        @hookimpl
        def register_scales(register):
            register(GradingScale("t1", "T1", "test", (Level("a", "A"), Level("b", "B"))))
            register(GradingScale("t2", "T2", "test", (Level("x", "X"), Level("y", "Y"))))
        """,
    )
    registry = get_registry()
    assert registry.plugins["scales"].scales == ["t1", "t2"]
    assert registry.scale("t2").codes == ("x", "y")


def test_hook_register_preprocessors(install_plugin):
    install_plugin(
        "prep",
        """
        from fpgrade.hookspecs import hookimpl
        from fpgrade.preprocess_api import Preprocessor

        class Grey(Preprocessor):
            id = "test_grey"
            requires = ("image",)
            provides = ("grey",)
            def __call__(self, results):
                return {"grey": results["image"].mean(axis=-1)}

        @hookimpl
        def register_preprocessors(register):
            register(Grey)
        """,
    )
    import numpy as np

    registry = get_registry()
    assert registry.plugins["prep"].preprocessors == ["test_grey"]
    grey = registry.preprocessor("test_grey")()
    assert grey({"image": np.ones((2, 2, 3))})["grey"].shape == (2, 2)
    assert grey.describe()["provides"] == ["grey"]


def test_hook_register_models(install_plugin):
    install_plugin(
        "model",
        """
        from fpgrade.hookspecs import hookimpl
        from fpgrade.model_api import GradingModel, ModelCard

        class Tiny(GradingModel):
            card = ModelCard(id="test_tiny", name="Tiny", paper="test",
                             scales=("palsy_binary",), input_shape=(3, 128, 128))
            input_keys = ("face_128",)
            input_layouts = {"face_128": "image"}
            @classmethod
            def build(cls, scale=None, **options):
                from torch import nn
                return nn.Sequential(nn.Flatten(), nn.Linear(3 * 128 * 128, 2))

        @hookimpl
        def register_models(register):
            register(Tiny)
        """,
    )
    import torch

    registry = get_registry()
    assert registry.plugins["model"].models == ["test_tiny"]
    model = registry.model("test_tiny")
    assert model.build()(torch.zeros(4, 3, 128, 128)).shape == (4, 2)


BAD_MODELS = {
    "no input_keys": ("", "declares no input_keys"),
    "no layout": ('input_keys = ("x",)', "gives input 'x' the layout None"),
    "unknown scale": ('input_keys = ("x",); input_layouts = {"x": "image"}; SCALES = ("nope",)',
                      "names the scale 'nope' on its card, which no plugin registered"),
    "one unknown scale": ('input_keys = ("face_224",); input_layouts = {"face_224": "image"}; '
                          'SCALES = ("palsy_binary", "sided_7")',
                          "names the scale 'sided_7' on its card, which no plugin registered"),
    "unknown preprocessor": ('input_keys = ("face_224",); input_layouts = {"face_224": "image"}; '
                             'PREPROCESSORS = ("face_crop_244",)',
                             "names the preprocessor 'face_crop_244' on its card, which no plugin "
                             "registered"),
    "input nobody provides": ('input_keys = ("face_100",); input_layouts = {"face_100": "image"}',
                              "takes the input 'face_100' (for a photo), which no registered "
                              "preprocessor provides (results on offer: "),
    "video input nobody provides": (
        'input_keys = ("face_224",); input_layouts = {"face_224": "image"}; MEDIA = ("image", "video")\n'
        '            @classmethod\n'
        '            def pipeline_targets(cls, kind):\n'
        '                return ("face_224",) if kind == "image" else ("face_sequence",)',
        "takes the input 'face_sequence' (for a video), which no registered preprocessor provides"),
    "input made elsewhere": (
        'input_keys = ("face_224", "age"); input_layouts = {"face_224": "image", "age": "vector"}\n'
        '            @classmethod\n'
        '            def pipeline_targets(cls, kind):\n'
        '                return ("face_224",)',
        "takes the input 'age' (for a photo), which no registered preprocessor provides"),
    "old optimisers": ('input_keys = ("x",); input_layouts = {"x": "image"}\n'
                       '            @classmethod\n'
                       '            def optimisers(cls, network, stage, epochs, steps_per_epoch):\n'
                       '                raise AssertionError("never called")',
                       "overrides optimisers() with the signature (network, stage, epochs, steps_per_epoch)"),
    "string augmentation": ('input_keys = ("x",); input_layouts = {"x": "image"}; augmentation = "vgg"',
                            "not an fpgrade.augmentation.Augmentation"),
    "unknown optimizer": ('input_keys = ("x",); input_layouts = {"x": "image"}; RECIPE = {"optimizer": "lion"}',
                          "names the optimizer 'lion' in its recipe (known: sgd, rmsprop, adam, adamw; or override"),
    "vector without mirror": ('input_keys = ("x",); input_layouts = {"x": "vector"}; '
                              'augmentation = Augmentation(flip=0.5)', "gives no mirror_signs"),
}


@pytest.mark.parametrize("case", sorted(BAD_MODELS))
def test_a_model_that_cannot_train_is_refused_at_registration(install_plugin, case):
    body, message = BAD_MODELS[case]
    install_plugin(
        "badmodel",
        f"""
        from fpgrade.augmentation import Augmentation
        from fpgrade.hookspecs import hookimpl
        from fpgrade.model_api import GradingModel, ModelCard

        class Bad(GradingModel):
            SCALES = ("palsy_binary",)
            RECIPE = {{}}
            PREPROCESSORS = ()
            MEDIA = ("image",)
            {body}
            card = ModelCard(id="test_bad", name="Bad", paper="test", scales=SCALES, recipe=RECIPE,
                             preprocessors=PREPROCESSORS, media=MEDIA)
            @classmethod
            def build(cls, scale=None, **options):
                raise AssertionError("never built")

        @hookimpl
        def register_models(register):
            register(Bad)
        """,
    )
    registry = get_registry()
    assert "test_bad" not in registry.models and "vgg16_palsy" in registry.models
    failure = next(f for f in registry.failures if f.name == "badmodel")
    assert failure.error.startswith("model 'test_bad' ") and message in failure.error
    assert "\n" not in failure.error


def test_hook_register_commands(install_plugin, capsys):
    install_plugin(
        "command",
        """
        import typer
        from fpgrade.hookspecs import hookimpl

        @hookimpl
        def register_commands(cli):
            @cli.command()
            def hello(name: str = typer.Argument("clinic")):
                '''Say hello.'''
                print(f"hello {name}")
        """,
    )
    assert main(["hello", "ward"]) == 0
    assert capsys.readouterr().out == "hello ward\n"


def test_every_hook_has_a_test():
    tests = "\n".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py"))
    missing = [hook for hook in HOOKS if f"def test_hook_{hook}(" not in tests]
    assert HOOKS and not missing


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_its_signature(hook):
    docs = (ROOT / "docs" / "plugins.md").read_text()
    signature = f"{hook}{inspect.signature(getattr(hookspecs, hook))}"
    signature = re.sub(r"'|\"", "", signature)  # postponed annotations are strings
    assert signature.replace(" -> None", "") in docs.replace("`", "")


def test_a_model_keeps_its_registered_scales_when_another_plugin_is_disabled(monkeypatch):
    monkeypatch.setenv("FPGRADE_DISABLE_PLUGINS", "house_brackmann,mouth_motion")
    registry = get_registry()
    assert "house_brackmann" not in registry.scales
    assert {"idfnp", "palsynet3d", "cascaded_encoder"} <= set(registry.models)
    assert not registry.failures


def test_a_model_with_its_own_optimisers_may_name_its_own_optimizer(install_plugin):
    install_plugin(
        "ownopt",
        """
        from fpgrade.hookspecs import hookimpl
        from fpgrade.model_api import GradingModel, ModelCard

        class OwnOptimiser(GradingModel):
            card = ModelCard(id="test_own_opt", name="Own", paper="test", scales=("palsy_binary",),
                             recipe={"optimizer": "lion"})
            input_keys = ("face_224",)
            input_layouts = {"face_224": "image"}
            @classmethod
            def build(cls, scale=None, **options):
                raise AssertionError("never built")
            @classmethod
            def optimisers(cls, network, stage, epochs, recipe):
                raise AssertionError("never called")

        @hookimpl
        def register_models(register):
            register(OwnOptimiser)
        """,
    )
    assert "test_own_opt" in get_registry().models
