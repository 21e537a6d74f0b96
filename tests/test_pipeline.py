"""Preprocessors as plugins: every registered one described, pipelines resolved and run."""

from __future__ import annotations

import pytest

from fpgrade.errors import PluginError
from fpgrade.face.landmarks import FaceLandmarks
from fpgrade.pipeline import plan
from fpgrade.registry import load_registry
from tests.media_factory import write_image, write_video

PREPROCESSORS = sorted(load_registry(disabled=()).preprocessors)


@pytest.mark.parametrize("preprocessor_id", PREPROCESSORS)
def test_every_preprocessor_declares_what_it_needs_and_gives(registry, preprocessor_id):
    cls = registry.preprocessor(preprocessor_id)
    described = cls.describe()
    assert described["id"] == preprocessor_id and described["description"]
    assert described["provides"]
    pipeline = plan(registry, [preprocessor_id])  # resolvable from a path alone
    assert pipeline.ids[-1] == preprocessor_id


def test_built_in_preprocessors_are_registered(registry):
    expected = {"image_loader", "face_landmarks", "face_crop_128",
                "face_crop_224", "face_crop_299", "face_crop_112", "region_crops",
                "attribute_masks", "video_face_landmarks", "temporal_normalisation",
                "phcnn_sequences", "emotrics_measurements", "asymmetry_indices"}
    assert expected <= set(registry.preprocessors)


def test_a_pipeline_for_a_face_crop_from_a_photo(registry, tmp_path):
    pipeline = plan(registry, ["face_224", "region_crops", "asymmetry"])
    assert pipeline.ids[:2] == ["image_loader", "face_landmarks"]
    out = pipeline({"path": write_image(tmp_path / "a.png"), "movement": "MV4"})
    assert out["face_224"].shape == (224, 224, 3)
    assert out["eyebrow_region"].shape == out["mouth_region"].shape == (40, 120, 3)
    assert isinstance(out["landmarks"], FaceLandmarks)
    assert out["asymmetry"]["RgAs"] >= 0


def test_a_pipeline_for_a_video_clip(registry, tmp_path):
    pipeline = plan(registry, ["face_clip", "sequence_face"], params={"temporal_normalisation": {"n": 8}})
    out = pipeline({"path": write_video(tmp_path / "v.mp4", frames=10, size=256)})
    assert out["face_clip"].shape == (8, 112, 112, 3)
    assert out["sequence_face"].shape == (2, 4, 128, 128, 3)
    assert out["sequence_mouth"].shape == (2, 4, 40, 120, 3)
    assert out["frames_dropped"] == 0


def test_a_missing_piece_is_named(registry):
    with pytest.raises(PluginError, match=r"no preprocessor provides 'depth_map' \(needed by the request\)"):
        plan(registry, ["depth_map"])


def test_an_ambiguous_result_asks_for_an_id(install_plugin):
    install_plugin(
        "second_landmarks",
        """
        from fpgrade.hookspecs import hookimpl
        from fpgrade.preprocess_api import Preprocessor
        class Other(Preprocessor):
            id = "other_landmarks"
            requires = ("image",)
            provides = ("landmarks",)
            def __call__(self, results):
                return {}
        @hookimpl
        def register_preprocessors(register):
            register(Other)
        """,
    )
    from fpgrade.registry import get_registry

    registry = get_registry()
    with pytest.raises(PluginError, match="provided by several preprocessors: face_landmarks, other_landmarks"):
        plan(registry, ["face_224"])
    assert plan(registry, ["other_landmarks", "face_224"]).ids[1] == "other_landmarks"


def test_given_results_are_not_recomputed(registry, astronaut_landmarks):
    from tests.media_factory import astronaut

    pipeline = plan(registry, ["face_128"], given=("image", "landmarks"))
    assert pipeline.ids == ["face_crop_128"]
    out = pipeline({"image": astronaut(), "landmarks": astronaut_landmarks})
    assert out["face_128"].shape == (128, 128, 3)
    assert out["landmarks"] is astronaut_landmarks
