"""Plugins fail alone (issue 22): each broken plugin is a real distribution (a module and a
``*.dist-info`` with its entry point) on the path of a real ``fpgrade`` process; it is listed once
as failed with its reason, one warning line goes to stderr, and every other command works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fpgrade.cli import main

MODEL = """
from fpgrade.hookspecs import hookimpl
from fpgrade.model_api import GradingModel, ModelCard

class Broken(GradingModel):
    card = ModelCard(id={model_id!r}, name="Broken", paper="test", scales={scales!r},
                     preprocessors={preprocessors!r}, input_shape=(3, 128, 128))
    input_keys = ({key!r},)
    input_layouts = {{{key!r}: "image"}}

    @classmethod
    def build(cls, scale=None, *, num_classes=None, **options):
        raise AssertionError("a refused model is never built")

@hookimpl
def register_models(register):
    {body}
"""


def model_plugin(model_id="broken_model", scales=("palsy_binary",), preprocessors=(),
                 key="face_128", body="register(Broken)") -> str:
    return MODEL.format(model_id=model_id, scales=scales, preprocessors=preprocessors, key=key,
                        body=body)


#: plugin name -> (its source, words its reason must hold)
BROKEN = {
    "dup_model": (model_plugin(model_id="asymmetry_classifier"),
                  "model id 'asymmetry_classifier' is registered twice: by plugin "
                  "'asymmetry_classifier' (module fpgrade_plugins.models.asymmetry_classifier) and "
                  "by plugin 'dup_model'"),
    "raising_hook": (model_plugin(body="raise RuntimeError('weights folder missing')"),
                     "its register_models hook raised RuntimeError: weights folder missing"),
    "no_provider": (model_plugin(model_id="needs_face_100", key="face_100"),
                    "model 'needs_face_100' takes the input 'face_100' (for a photo), which no "
                    "registered preprocessor provides (results on offer: asymmetry, "),
    "unknown_preprocessor": (model_plugin(model_id="names_bad_prep",
                                          preprocessors=("face_crop_244",)),
                             "model 'names_bad_prep' names the preprocessor 'face_crop_244' on its "
                             "card, which no plugin registered"),
    "unknown_scale": (model_plugin(model_id="names_bad_scale", scales=("palsy_binary", "hb6")),
                      "model 'names_bad_scale' names the scale 'hb6' on its card, which no plugin "
                      "registered"),
}


def write_plugin(site: Path, name: str, source: str, version: str = "1.0") -> None:
    """A distribution as pip would leave it: the module and its dist-info with the entry point."""
    module = f"fpgrade_broken_{name}"
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    dist = site / f"fpgrade_broken_{name}-{version}.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: fpgrade-broken-{name}\n"
                                   f"Version: {version}\n")
    (dist / "entry_points.txt").write_text(f"[fpgrade]\n{name} = {module}\n")


@pytest.fixture(scope="module")
def broken_site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("broken-site")
    for name, (source, _) in BROKEN.items():
        write_plugin(site, name, source)
    return site


def fpgrade(site: Path, data: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site), "FPGRADE_DATA_DIR": str(data)}
    env.pop("FPGRADE_DISABLE_PLUGINS", None)
    return subprocess.run([sys.executable, "-m", "fpgrade", *args], capture_output=True,
                          text=True, env=env, stdin=subprocess.DEVNULL)


def warnings_of(stderr: str) -> list[str]:
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.startswith("warning: plugin ")]


def test_every_command_works_beside_five_broken_plugins(broken_site, isolated_settings):
    done = fpgrade(broken_site, isolated_settings, "--help")
    assert done.returncode == 0 and "plugins" in done.stdout
    lines = warnings_of(done.stderr)
    assert sorted(line.split("'")[1] for line in lines) == sorted(BROKEN)  # one line each
    for name, (_, reason) in BROKEN.items():
        assert any(line.startswith(f"warning: plugin {name!r} failed: {reason}") for line in lines)

    done = fpgrade(broken_site, isolated_settings, "plugins", "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    names = [row["name"] for row in rows]
    assert len(names) == len(set(names))  # each plugin exactly once
    by_name = {row["name"]: row for row in rows}
    for name, (_, reason) in BROKEN.items():
        row = by_name[name]
        assert row["status"] == "failed" and row["reason"].startswith(reason)
        assert row["models"] == row["scales"] == row["preprocessors"] == []
        assert row["version"] == "1.0" and row["distribution"] == f"fpgrade-broken-{name}"
    assert {row["status"] for row in rows if row["distribution"] == "fpgrade"} == {"ok"}

    done = fpgrade(broken_site, isolated_settings, "plugins")
    assert done.returncode == 0
    for name in BROKEN:
        (row,) = [line for line in done.stdout.splitlines() if f" {name} " in line]
        assert "failed" in row and "1.0" in row

    for command in (["scales", "--json"], ["preprocessors", "--json"], ["train", "--help"]):
        done = fpgrade(broken_site, isolated_settings, *command)
        assert done.returncode == 0, (command, done.stderr)
        assert len(warnings_of(done.stderr)) == len(BROKEN)
    done = fpgrade(broken_site, isolated_settings, "models", "--json")
    models = {card["id"]: card for card in json.loads(done.stdout)}
    assert done.returncode == 0 and "asymmetry_classifier" in models
    assert models["asymmetry_classifier"]["paper"].startswith("Paper 001")  # the built-in kept it
    assert not {"needs_face_100", "names_bad_prep", "names_bad_scale", "broken_model"} & set(models)


def test_a_model_of_a_left_out_plugin_says_why(broken_site, isolated_settings):
    done = fpgrade(broken_site, isolated_settings, "models", "check", "names_bad_scale", "--json")
    assert done.returncode == 1
    (stage,) = json.loads(done.stdout)["stages"]
    assert stage["stage"] == "registered" and stage["status"] == "failed"
    assert ("model 'names_bad_scale' is not available: its plugin 'unknown_scale' was left out: "
            "model 'names_bad_scale' names the scale 'hb6'") in stage["detail"]


@pytest.mark.slow
def test_another_model_still_trains_beside_the_broken_plugins(broken_site, isolated_settings):
    done = fpgrade(broken_site, isolated_settings, "models", "check", "asymmetry_classifier",
                   "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    stages = {s["stage"]: s for s in json.loads(done.stdout)["stages"]}
    assert stages["train step"]["status"] == "ok" and "parameter tensor(s) changed" in \
        stages["train step"]["detail"]
    assert len(warnings_of(done.stderr)) == len(BROKEN)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_each_broken_plugin_alone_is_listed_once_and_the_rest_load(install_plugin, capsys, name):
    source, reason = BROKEN[name]
    install_plugin(name, source)
    assert main(["plugins", "--json"]) == 0
    captured = capsys.readouterr()
    rows = [row for row in json.loads(captured.out) if row["name"] == name]
    assert len(rows) == 1 and rows[0]["status"] == "failed" and rows[0]["reason"].startswith(reason)
    assert captured.err.count("warning: plugin") == 1
    assert main(["models", "--json"]) == 0
    ids = {card["id"] for card in json.loads(capsys.readouterr().out)}
    assert {"asymmetry_classifier", "phcnn_lstm", "palsynet3d", "idfnp"} <= ids


def test_a_raising_command_hook_leaves_the_plugin_out_whole(install_plugin, capsys):
    """Its model goes too, and none of its commands is added (not even one added before the
    hook raised); a command name fpgrade already has is refused the same way."""
    install_plugin("half_commands", model_plugin(model_id="half_model") + textwrap.dedent("""
        @hookimpl
        def register_commands(cli):
            @cli.command()
            def half_hello():
                print("hello")
            raise RuntimeError("second command broken")
        """))
    install_plugin("takes_train", textwrap.dedent("""
        from fpgrade.hookspecs import hookimpl
        @hookimpl
        def register_commands(cli):
            @cli.command()
            def train():
                print("not fpgrade's train")
        """))
    assert main(["plugins", "--json"]) == 0
    captured = capsys.readouterr()
    rows = {row["name"]: row for row in json.loads(captured.out)}
    assert rows["half_commands"]["reason"] == ("its register_commands hook raised RuntimeError: "
                                               "second command broken")
    assert rows["half_commands"]["models"] == []
    assert rows["takes_train"]["reason"] == "adds the command 'train', which fpgrade already has"
    assert main(["half-hello"]) == 2  # no such command
    from fpgrade.registry import get_registry

    assert "half_model" not in get_registry().models
    assert main(["train", "--help"]) == 0 and "--model" in capsys.readouterr().out
