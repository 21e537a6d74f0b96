"""Weight files: safetensors + card, checked on load; pretrained backbones from local files."""

from __future__ import annotations

import warnings

import pytest
import torch

from fpgrade.errors import WeightsError
from fpgrade.models import weights
from fpgrade.models.backbones import RandomBackboneWarning, read_state_dict


def build(registry, model_id, classes, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return registry.model(model_id).build(num_classes=classes, **kw)


@pytest.fixture
def saved(registry, tmp_path):
    network = build(registry, "phcnn", 7)
    card = {"id": "phcnn", "scale": "sided7", "codes": list(registry.scale("sided7").codes)}
    digest = weights.save(tmp_path / "w", network, card)
    return network, tmp_path / "w.safetensors", digest


def test_saved_weights_reload_to_the_same_outputs(registry, saved):
    network, path, digest = saved
    loaded = weights.load(path, model_id="phcnn", scale="sided7",
                          codes=registry.scale("sided7").codes)
    assert loaded.sha256 == digest and loaded.card["scale"] == "sided7"
    assert path.with_suffix(".json").is_file()
    fresh = build(registry, "phcnn", 7)
    weights.load_into(fresh, loaded)
    x = [torch.randn(2, 1, 3, 128, 128), torch.randn(2, 1, 3, 40, 120), torch.randn(2, 1, 3, 40, 120)]
    network.eval(), fresh.eval()
    with torch.no_grad():
        torch.testing.assert_close(network(*x)["logits"], fresh(*x)["logits"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model_id": "idfnp"}, "weights for model 'phcnn', not 'idfnp'"),
        ({"scale": "house_brackmann"}, "weights for scale 'sided7', not 'house_brackmann'"),
        ({"codes": ("N", "L", "R")}, "weights for classes"),
    ],
)
def test_weights_for_another_model_scale_or_classes_are_refused(saved, kwargs, message):
    with pytest.raises(WeightsError, match=message):
        weights.load(saved[1], **kwargs)


def test_weights_that_do_not_fit_the_network_are_refused(registry, saved):
    loaded = weights.load(saved[1])
    other = build(registry, "phcnn", 3)  # 3 classes: the head does not fit
    with pytest.raises(WeightsError, match="does not fit the phcnn network"):
        weights.load_into(other, loaded)


def test_not_a_weight_file(tmp_path):
    bogus = tmp_path / "w.safetensors"
    bogus.write_bytes(b"\x00" * 64)
    with pytest.raises(WeightsError, match="not a safetensors weight file"):
        weights.load(bogus)
    with pytest.raises(WeightsError, match="weight file not found"):
        weights.load(tmp_path / "missing.safetensors")


def test_a_safetensors_file_without_card_is_refused(tmp_path):
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(1)}, str(tmp_path / "plain.safetensors"))
    with pytest.raises(WeightsError, match="no fpgrade model card"):
        weights.load(tmp_path / "plain.safetensors")


def test_a_pickle_with_code_is_never_executed(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "evil.pth"
    torch.save({"state_dict": {"w": Evil()}}, path)
    with pytest.raises(WeightsError, match="cannot read weights"):
        read_state_dict(path)


def test_imagenet_backbone_weights_load_from_a_local_file(registry, tmp_path):
    import timm
    from safetensors.torch import save_file

    reference = timm.create_model("vgg16", pretrained=False)
    save_file({k: v.contiguous() for k, v in reference.state_dict().items()}, str(tmp_path / "vgg16.safetensors"))
    network = build(registry, "vgg16_palsy", 2, backbone_weights=str(tmp_path / "vgg16.safetensors"))
    torch.testing.assert_close(network.backbone.features[0].weight, reference.features[0].weight)


def test_kinetics_weights_load_for_palsynet3d(registry, tmp_path):
    from torchvision.models.video import r3d_18

    reference = r3d_18(weights=None)
    torch.save(reference.state_dict(), tmp_path / "r3d18_kinetics.pth")
    network = build(registry, "palsynet3d", 6, backbone_weights=str(tmp_path / "r3d18_kinetics.pth"))
    torch.testing.assert_close(network.backbone.layer4[0].conv1[0].weight, reference.layer4[0].conv1[0].weight)


def test_backbone_weights_for_another_architecture_are_refused(registry, tmp_path):
    from safetensors.torch import save_file

    save_file({"fc.weight": torch.zeros(2, 2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(WeightsError, match="other.safetensors"):
        build(registry, "palsynet3d", 6, backbone_weights=str(tmp_path / "other.safetensors"))
    with pytest.raises(WeightsError, match="backbone weight file not found"):
        build(registry, "vgg16_palsy", 2, backbone_weights=str(tmp_path / "none.safetensors"))


def test_random_backbones_say_so_once(registry):
    from fpgrade.models import backbones

    backbones._ANNOUNCED.discard("vgg19")
    with pytest.warns(RandomBackboneWarning, match="vgg19: no pretrained weights given"):
        registry.model("vgg19_palsy").build(num_classes=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RandomBackboneWarning)
        registry.model("vgg19_palsy").build(num_classes=2)  # not again


def test_backbone_weights_from_the_settings(registry, tmp_path, monkeypatch):
    import json as _json

    import timm
    from safetensors.torch import save_file

    from fpgrade.settings import get_settings

    reference = timm.create_model("vgg19", pretrained=False)
    path = tmp_path / "vgg19.safetensors"
    save_file({k: v.contiguous() for k, v in reference.state_dict().items()}, str(path))
    monkeypatch.setenv("FPGRADE_BACKBONE_WEIGHTS", _json.dumps({"vgg19": str(path)}))
    get_settings.cache_clear()
    network = registry.model("vgg19_palsy").build(num_classes=2)
    torch.testing.assert_close(network.backbone.features[0].weight, reference.features[0].weight)
