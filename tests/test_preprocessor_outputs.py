"""What each preprocessor declares it provides (``Preprocessor.outputs``: dtype, shape) is what
it returns for a real photo and a real video clip; ``fpgrade preprocessors`` shows it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from fpgrade.cli import main
from fpgrade.model_check import clip_from_photo, example_photo
from fpgrade.pipeline import plan
from fpgrade.preprocess_api import GIVEN
from fpgrade.registry import load_registry

REGISTRY = load_registry(disabled=())
BUILT_IN = [cls for cls in REGISTRY.preprocessors.values()
            if cls.__module__.startswith("fpgrade_plugins.")]
VIDEO_ONLY = {"video_face_landmarks", "temporal_normalisation", "phcnn_sequences",
              "video_asymmetry_features"}


@pytest.mark.parametrize("cls", BUILT_IN, ids=lambda cls: cls.id)
def test_every_built_in_declares_each_result_it_provides(cls):
    assert set(cls.outputs) == set(cls.provides)
    for out in cls.outputs.values():
        assert out.meaning and out.dtype
        assert out.layout in (None, "image", "sequence", "clip", "mask", "vector")


@pytest.fixture(scope="module")
def real_results(tmp_path_factory) -> dict:
    """Every built-in result: the example photo and a 16-frame clip made of it, through the
    real pipelines (MediaPipe included)."""
    photo_keys = [k for cls in BUILT_IN if cls.id not in VIDEO_ONLY for k in cls.provides]
    video_keys = [k for cls in BUILT_IN if cls.id in VIDEO_ONLY for k in cls.provides]
    results = dict(plan(REGISTRY, photo_keys)({"path": example_photo()}))
    clip = clip_from_photo(example_photo(), tmp_path_factory.mktemp("clip") / "clip.mp4")
    results.update(plan(REGISTRY, video_keys)({"path": clip}))
    return results


def matches(shape_text: str, shape: tuple) -> bool:
    """``(C, 4, 128, 128, 3)`` against a real shape: numbers equal, letters any size."""
    dims = [d.strip() for d in shape_text.strip("()").split(",") if d.strip()]
    return len(dims) == len(shape) and all(not d.isdigit() or int(d) == n
                                           for d, n in zip(dims, shape))


@pytest.mark.slow
def test_the_declared_dtypes_and_shapes_are_what_the_built_ins_return(real_results):
    checked = []
    for cls in BUILT_IN:
        for key, out in cls.outputs.items():
            value = real_results[key]
            listed = re.fullmatch(r"list\[(.+)\]", out.dtype)
            if listed:  # a list of arrays or objects: its length first, then each element's
                assert isinstance(value, list) and value, key
                inner = listed.group(1)
                dims = out.shape.strip("()").split(",", 1)
                for element in value:
                    if hasattr(element, "dtype"):
                        assert str(element.dtype) == inner, key
                        assert matches(f"({dims[1]}", element.shape), (key, element.shape)
                    else:
                        assert type(element).__name__ == inner, key
            elif isinstance(value, np.ndarray):
                assert str(value.dtype) == out.dtype, (key, value.dtype)
                assert matches(out.shape, value.shape), (key, out.shape, value.shape)
            else:
                assert type(value).__name__ == out.dtype and out.shape == "", (key, type(value))
            checked.append(key)
    assert {"face_128", "face_224", "face_299", "face_112", "landmarks", "measurements",
            "asymmetry_features", "face_clip", "sequence_face"} <= set(checked)
    assert isinstance(real_results["path"], Path) and set(GIVEN) == {"path", "movement"}


def test_fpgrade_preprocessors_shows_requires_and_provides(capsys):
    assert main(["preprocessors", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    by_id = {p["id"]: p for p in data["preprocessors"]}
    crop = by_id["face_crop_224"]
    assert crop["plugin"] == "face_crops"
    assert [r["key"] for r in crop["requires"]] == ["image", "landmarks"]
    assert crop["requires"][0] == {"key": "image", "provided_by": ["image_loader"],
                                   "dtype": "uint8", "shape": "(H, W, 3)"}
    assert crop["provides"][0]["key"] == "face_224"
    assert crop["provides"][0]["shape"] == "(224, 224, 3)"
    assert crop["provides"][0]["layout"] == "image"
    assert by_id["image_loader"]["requires"][0]["provided_by"] == ["given"]
    assert "x / 255" in data["normalisation"]["image"]
    assert "as it is" in data["normalisation"]["vector"]
    assert main(["preprocessors"]) == 0
    out = capsys.readouterr().out
    assert "face_224: uint8 (224, 224, 3), model input `image`" in out
    assert "path: Path (given by the caller)" in out


def test_an_undeclared_result_is_shown_as_such(install_plugin, capsys):
    install_plugin("grey", """
        from fpgrade.hookspecs import hookimpl
        from fpgrade.preprocess_api import Preprocessor
        class Grey(Preprocessor):
            id = "test_grey"
            requires = ("face_224",)
            provides = ("grey_224",)
            def __call__(self, results):
                return {"grey_224": results["face_224"].mean(axis=-1)}
        @hookimpl
        def register_preprocessors(register):
            register(Grey)
        """)
    assert main(["preprocessors", "--json"]) == 0
    grey = next(p for p in json.loads(capsys.readouterr().out)["preprocessors"]
                if p["id"] == "test_grey")
    assert grey["plugin"] == "grey" and grey["requires"][0]["provided_by"] == ["face_crop_224"]
    assert grey["provides"] == [{"key": "grey_224", "dtype": "?", "shape": "?",
                                 "meaning": "not declared by its preprocessor", "layout": None}]
