"""Augmentation: a flip swaps the side of the label, the landmarks and the measurements."""

from __future__ import annotations

import numpy as np
import pytest

from fpgrade.augmentation import Augmentation
from fpgrade.face.augment import Sample, augment, hflip
from fpgrade.face.measure import measure
from tests.media_factory import astronaut


def test_hflip_swaps_a_side_aware_label(registry):
    sided7 = registry.scale("sided7")
    sample = Sample(astronaut(), "L2")
    flipped = hflip(sample, sided7)
    assert flipped.label == "R2"
    assert (flipped.image == astronaut()[:, ::-1]).all()
    assert hflip(Sample(astronaut(), "N"), sided7).label == "N"
    assert hflip(Sample(astronaut(), "IV"), registry.scale("house_brackmann")).label == "IV"


def test_hflip_swaps_landmark_sides_and_measurements(astronaut_landmarks):
    sample = Sample(astronaut(), "L1", astronaut_landmarks)
    flipped = hflip(sample)
    lm, fl = astronaut_landmarks, flipped.landmarks
    assert fl.iris_right.x == pytest.approx(511 - lm.iris_left.x)
    assert fl.ibug68[36, 0] == pytest.approx(511 - lm.ibug68[45, 0])  # right outer eye corner
    before = measure(lm.ibug68, lm.iris_right, lm.iris_left)
    after = measure(fl.ibug68, fl.iris_right, fl.iris_left)
    assert after.sides["brow_height"].left == pytest.approx(before.sides["brow_height"].right)
    assert after.sides["commissure_excursion"].right == pytest.approx(
        before.sides["commissure_excursion"].left)


def test_a_flipped_clip_flips_every_frame():
    clip = np.stack([astronaut()[:64, :96]] * 3)
    flipped = hflip(Sample(clip, "R3"))
    assert flipped.image.shape == clip.shape
    assert (flipped.image[2] == clip[2][:, ::-1]).all()


def test_augment_uses_one_draw_for_a_whole_clip(registry):
    clip = np.stack([astronaut()[:112, :112]] * 4)
    out = augment(Sample(clip, "L3"), registry.model("palsynet3d").augmentation,
                  np.random.default_rng(3), registry.scale("sided7"))
    assert out.image.shape == clip.shape
    assert all((out.image[0] == frame).all() for frame in out.image)


def test_augment_flips_the_label_exactly_when_it_flips_the_image(registry):
    sided7 = registry.scale("sided7")
    image = astronaut()
    flips = 0
    for seed in range(40):
        out = augment(Sample(image, "L2"), Augmentation(flip=0.5), np.random.default_rng(seed), sided7)
        mirrored = (out.image == image[:, ::-1]).all()
        assert out.label == ("R2" if mirrored else "L2")
        flips += mirrored
    assert 5 < flips < 35


def test_geometric_augmentation_moves_landmarks_with_pixels(astronaut_landmarks):
    recipe = Augmentation(rotate=1.0, shift=1.0, scale=1.0, max_degrees=15)
    out = augment(Sample(astronaut(), None, astronaut_landmarks), recipe, np.random.default_rng(0))
    assert not (out.image == astronaut()).all()
    assert out.landmarks is not None
    assert not np.allclose(out.landmarks.ibug68, astronaut_landmarks.ibug68)


def test_every_paper_declares_its_augmentation_in_its_plugin(registry):
    recipes = {model_id: registry.model(model_id).augmentation
               for model_id in ("phcnn_lstm", "idfnp", "cascaded_encoder", "vgg16_palsy", "palsynet3d")}
    assert all(recipe.active for recipe in recipes.values())
    assert recipes["palsynet3d"].colour == recipes["palsynet3d"].flip == 0.5
    assert recipes["phcnn_lstm"].flip == 0.0  # its regional crops would move


def test_an_augmentation_probability_out_of_range_is_refused():
    with pytest.raises(ValueError, match="flip is a probability"):
        Augmentation(flip=1.5)


def test_a_flip_negates_a_measurement_vector_and_mirrors_its_label(registry, astronaut_landmarks):
    from fpgrade.training.tensors import augment_sample
    from fpgrade_plugins.preprocess.asymmetry_features import MIRROR_SIGNS, feature_vector

    vector = feature_vector(astronaut_landmarks)
    mirrored = feature_vector(astronaut_landmarks.mirrored(512))
    np.testing.assert_allclose(mirrored, vector * MIRROR_SIGNS, atol=1e-5)  # the sign rule holds
    sided7 = registry.scale("sided7")
    model = registry.model("asymmetry_classifier")
    outcomes = set()
    for seed in range(20):
        arrays, label = augment_sample({"asymmetry_features": vector}, model, "L2", seed, sided7)
        flipped = not np.allclose(arrays["asymmetry_features"], vector)
        assert label == ("R2" if flipped else "L2")
        outcomes.add(flipped)
    assert outcomes == {True, False}
