"""``docs/plugins.md`` cannot drift: its result table is the registry's, its normalisation is what
``to_tensor`` does, its recipe table names every key training reads, and its minimal plugin,
pip-installed as printed, passes ``fpgrade models check``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from fpgrade.cli import main
from fpgrade.model_api import RECIPE_OPTIMIZERS, RECIPE_SCHEDULES
from fpgrade.registry import load_registry
from fpgrade.result_catalogue import NORMALISATION, markdown_table

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "plugins.md").read_text()


def between(name: str) -> str:
    match = re.search(rf"<!-- {name}:.*?-->\n(.*?)\n<!-- /{name} -->", DOC, re.S)
    assert match, f"docs/plugins.md has no {name} block"
    return match.group(1).strip()


def table_rows(block: str) -> list[list[str]]:
    rows = [[c.strip() for c in line.strip().strip("|").split(" | ")]
            for line in block.splitlines()]
    return rows[2:]  # after the header and its rule


def test_the_result_table_is_the_registrys():
    """The built-ins' results (a third-party plugin installed beside them is left out)."""
    from importlib.metadata import entry_points

    built_in = [ep for ep in entry_points(group="fpgrade") if ep.dist and ep.dist.name == "fpgrade"]
    assert between("result-table") == markdown_table(load_registry(built_in, disabled=()))
    keys = {row[0].strip("`") for row in table_rows(between("result-table"))}
    assert {"face_128", "face_224", "face_299", "face_112", "landmarks", "measurements",
            "asymmetry_features", "face_clip", "sequence_face", "sequence_eyebrow",
            "sequence_mouth", "attribute_mask"} <= keys


def test_the_normalisation_table_is_what_to_tensor_does():
    import torch

    from fpgrade.training.tensors import to_tensor

    rows = {row[0].strip("`"): row[1] for row in table_rows(between("normalisation-table"))}
    assert rows == NORMALISATION
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (5, 4, 3), dtype=np.uint8)
    expected = (image.astype(np.float64) / 255 - np.array(mean)) / np.array(std)
    tensor = to_tensor(image, "image", mean, std)
    assert tensor.dtype == torch.float32 and tuple(tensor.shape) == (3, 5, 4)
    np.testing.assert_allclose(tensor.numpy(), expected.transpose(2, 0, 1), rtol=1e-5, atol=1e-5)
    sequence = rng.integers(0, 256, (2, 5, 4, 3), dtype=np.uint8)
    assert tuple(to_tensor(sequence, "sequence", mean, std).shape) == (2, 3, 5, 4)
    assert tuple(to_tensor(sequence, "clip", mean, std).shape) == (3, 2, 5, 4)
    vector = np.array([-3.5, 120.0], dtype=np.float32)
    assert to_tensor(vector, "vector", mean, std).tolist() == [-3.5, 120.0]  # as it is
    mask = np.array([[0, 6]], dtype=np.uint8)
    assert to_tensor(mask, "mask", mean, std).dtype == torch.int64


def test_the_recipe_table_names_every_key_training_reads_and_only_those():
    sources = "\n".join((ROOT / path).read_text() for path in (
        "fpgrade/training/recipes.py", "fpgrade/training/engine.py", "fpgrade/cli/learn.py"))
    read = set(re.findall(r"recipe(?:\.get\(|\[)\"(\w+)\"", sources))
    rows = {row[0].strip("`"): row for row in table_rows(between("recipe-table"))}
    assert read and set(rows) == read
    assert re.findall(r"`(\w+)`", rows["optimizer"][1]) == list(RECIPE_OPTIMIZERS)
    assert sorted(re.findall(r"`(\w+)`", rows["schedule"][1])) == sorted(RECIPE_SCHEDULES)


def test_adamw_builds_torchs_adamw():
    import torch

    from fpgrade.training.recipes import optimisers_from_recipe

    (optimiser,), _ = optimisers_from_recipe({"optimizer": "adamw", "lr": 0.01},
                                             torch.nn.Linear(2, 2), epochs=3)
    assert isinstance(optimiser, torch.optim.AdamW)
    assert optimiser.defaults["weight_decay"] == 0.01 and optimiser.defaults["lr"] == 0.01


def test_the_doc_says_no_version_it_does_not_have():
    assert not re.search(r"\b0\.2(?!\d)", DOC) and "changed in" not in DOC.lower()


def code_block(language: str, containing: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", DOC, re.S)
    (block,) = [b for b in blocks if containing in b]
    return block


@pytest.fixture(scope="module")
def doc_plugin_site(tmp_path_factory) -> Path:
    """The minimal plugin of the doc, written from its two code blocks and installed with pip."""
    package = tmp_path_factory.mktemp("doc-plugin") / "my-fpgrade-cnn"
    package.mkdir()
    (package / "pyproject.toml").write_text(code_block("toml", "[project.entry-points.fpgrade]"))
    (package / "my_fpgrade_cnn.py").write_text(code_block("python", "class SmallCnn(GradingModel)"))
    site = tmp_path_factory.mktemp("doc-plugin-site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--no-build-isolation", "--target", str(site), str(package)],
        check=True,
    )
    return site


def fpgrade(site: Path, data: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site), "FPGRADE_DATA_DIR": str(data)}
    env.pop("FPGRADE_DISABLE_PLUGINS", None)
    return subprocess.run([sys.executable, "-m", "fpgrade", *args], capture_output=True,
                          text=True, env=env, stdin=subprocess.DEVNULL)


@pytest.mark.slow
def test_the_minimal_plugin_of_the_doc_installs_and_passes_models_check(doc_plugin_site,
                                                                        isolated_settings):
    done = fpgrade(doc_plugin_site, isolated_settings, "plugins", "--json")
    assert done.returncode == 0 and "warning" not in done.stderr, done.stderr
    plugin = next(p for p in json.loads(done.stdout) if p["name"] == "my_cnn")
    assert plugin["status"] == "ok" and plugin["version"] == "0.1.0"
    assert plugin["models"] == ["my_small_cnn", "my_mouth_mlp"]
    assert plugin["preprocessors"] == ["my_mouth_features"]
    for model in ("my_small_cnn", "my_mouth_mlp"):
        done = fpgrade(doc_plugin_site, isolated_settings, "models", "check", model, "--json")
        report = json.loads(done.stdout)
        assert done.returncode == 0 and report["ok"], done.stdout + done.stderr
        stages = {s["stage"]: s for s in report["stages"]}
        assert [s["status"] for s in report["stages"]] == ["ok"] * len(report["stages"])
        assert set(stages) == {"registered", "scale", "pipeline (photo)", "build",
                               "inputs (photo)", "forward", "train step"}
    assert "my_mouth_features float32 (2,)" in stages["inputs (photo)"]["detail"]
    assert stages["pipeline (photo)"]["detail"].endswith("face_landmarks -> my_mouth_features")


def test_models_check_reports_the_failing_stage_and_exits_1(install_plugin, capsys):
    """A model that registers (its declarations are fine) but whose network gives one logit per
    sample: the forward stage names the problem, the train step is skipped, exit code 1."""
    install_plugin("wrong_head", textwrap.dedent("""
        from fpgrade.hookspecs import hookimpl
        from fpgrade.model_api import GradingModel, ModelCard

        class WrongHead(GradingModel):
            card = ModelCard(id="wrong_head", name="W", paper="test", scales=("palsy_binary",))
            input_keys = ("face_128",)
            input_layouts = {"face_128": "image"}
            @classmethod
            def build(cls, scale=None, *, num_classes=None, **options):
                from torch import nn
                class Net(nn.Module):
                    def __init__(self):
                        super().__init__()
                        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(3 * 128 * 128, 1))
                    def forward(self, face_128):
                        return {"logits": self.fc(face_128)}
                return Net()

        @hookimpl
        def register_models(register):
            register(WrongHead)
        """))
    assert main(["models", "check", "wrong_head", "--json"]) == 1
    stages = {s["stage"]: s for s in json.loads(capsys.readouterr().out)["stages"]}
    assert stages["build"]["status"] == stages["inputs (photo)"]["status"] == "ok"
    assert stages["forward"] == {"stage": "forward", "status": "failed", "detail": (
        "ValueError: logits of shape (2, 1), expected (2, 2): one row per sample, one column "
        "per grade")}
    assert stages["train step"]["status"] == "skipped"
    assert main(["models", "check", "wrong_head"]) == 1
    out = capsys.readouterr().out
    assert "wrong_head: FAILED" in out and "forward" in out


def test_models_check_of_an_unknown_model_names_the_known_ones(capsys):
    assert main(["models", "check", "no_such_model"]) == 1
    out = capsys.readouterr().out
    assert "unknown model 'no_such_model'" in out and "asymmetry_classifier" in out
