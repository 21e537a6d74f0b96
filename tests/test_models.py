"""Every model: builds, forward and backward pass, output shape, and a parameter count computed
independently from the paper's specification."""

from __future__ import annotations

import warnings

import pytest
import torch

from fpgrade.model_api import GradingModel
from fpgrade.registry import load_registry
from fpgrade_plugins.preprocess.asymmetry_features import FEATURES

MODELS = sorted(load_registry(disabled=()).models)
BUILT_IN = {"phcnn_lstm", "phcnn", "face_n1_lstm", "idfnp", "inception_v3_baseline",
            "cascaded_encoder", "cascaded_encoder_e2e", "vgg16_palsy", "vgg19_palsy", "palsynet3d",
            "asymmetry_classifier"}


def build(model: type[GradingModel], classes: int) -> torch.nn.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.build(num_classes=classes)


def spec_inputs(model: type[GradingModel], batch: int, small: bool = False) -> list[torch.Tensor]:
    """Random inputs of the card's shape (``small``: a reduced spatial size where the network
    is fully convolutional, to keep backward passes cheap on CPU)."""
    shapes = {
        "sequence_face": (4, 3, 128, 128), "sequence_eyebrow": (4, 3, 40, 120),
        "sequence_mouth": (4, 3, 40, 120), "face_299": (3, 299, 299),
        "face_224": (3, 64, 64) if small else (3, 224, 224),
        "face_clip": (3, 8, 56, 56) if small else (3, 8, 112, 112),
        "asymmetry_features": (len(FEATURES),),
    }
    generator = torch.Generator().manual_seed(0)
    return [torch.randn(batch, *shapes[key], generator=generator) for key in model.input_keys]


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_every_paper_is_registered(registry):
    assert BUILT_IN <= set(registry.models)
    for model_id in BUILT_IN:
        card = registry.model(model_id).card
        assert card.paper.startswith("Paper 00") and card.recipe and card.deviations
        assert card.media and set(card.media) <= {"image", "video"}
        assert all(scale in registry.scales for scale in card.scales)
        assert all(p in registry.preprocessors for p in card.preprocessors)


@pytest.mark.parametrize("model_id", MODELS)
def test_forward_gives_one_logit_per_class(registry, model_id):
    model = registry.model(model_id)
    if not model.input_keys:
        pytest.skip(f"{model_id} declares no inputs")
    network = build(model, 5).eval()
    with torch.no_grad():
        out = network(*spec_inputs(model, 1))
    assert out["logits"].shape == (1, 5)
    assert torch.isfinite(out["logits"]).all()


@pytest.mark.parametrize("model_id", sorted(BUILT_IN))
def test_backward_reaches_the_trainable_parameters(registry, model_id):
    model = registry.model(model_id)
    network = build(model, 3).train()
    stage = model.stages()[-1]
    model.prepare_stage(network, stage)
    inputs = spec_inputs(model, 2, small=True)
    outputs = network(*inputs)
    batch = {"label": torch.tensor([0, 2])}
    if "segmentation" in outputs:
        batch["attribute_mask"] = torch.zeros(2, *outputs["segmentation"].shape[-2:], dtype=torch.long)
    loss = model.loss(network, outputs, batch, None, stage)
    loss.backward()
    trainable = [p for p in network.parameters() if p.requires_grad]
    assert trainable and all(p.grad is not None for p in trainable)
    assert torch.isfinite(loss)


# -- parameter counts from the specifications --------------------------------------------------

def conv(c_in, c_out, k, bias=True):
    return c_in * c_out * k * k + (c_out if bias else 0)


def bn(c):
    return 2 * c


def linear(n_in, n_out, bias=True):
    return n_in * n_out + (n_out if bias else 0)


def phcnn_branch(widths, hw, n_fc):
    total, c_in = 0, 3
    for width in widths:  # two 3x3 convs (no bias) + BN each, per stage
        total += conv(c_in, width, 3, False) + bn(width) + conv(width, width, 3, False) + bn(width)
        c_in = width
    flat = widths[-1] * (hw[0] // 8) * (hw[1] // 8)
    total += linear(flat, 1024, False) + bn(1024)
    total += (n_fc - 1) * (linear(1024, 1024, False) + bn(1024))
    return total


def lstm(n_in, hidden):
    return 4 * (n_in * hidden + hidden * hidden + 2 * hidden)


N1 = phcnn_branch((16, 32, 64), (128, 128), 1)
N2 = phcnn_branch((8, 32, 128), (40, 120), 3)
INCEPTION_V3_NO_CLASSIFIER = 21_785_568  # timm/torchvision Inception-v3 without its 1000-way FC
VGG16_FEATURES = 14_714_688  # 13 conv layers
VGG19_FEATURES = 20_024_384  # 16 conv layers
RESNET101_NO_CLASSIFIER = 42_500_160
R3D18_NO_CLASSIFIER = 33_371_472 - linear(512, 400)
DEEPID = conv(3, 20, 4) + conv(20, 40, 3) + conv(40, 60, 3) + conv(60, 80, 2) + linear(60 * 36 + 80 * 25, 160)
ATTENTION = sum(2 * (conv(512, 64, k, False) + bn(64)) + conv(512, 512, k, False) + bn(512) + 1
                for k in (3, 5, 7)) + 1
E1 = RESNET101_NO_CLASSIFIER + conv(2048, 512, 3, False) + bn(512) + ATTENTION + conv(512, 7, 1)
GRADE_HEAD = linear(1024, 512) + linear(512, 6)

EXPECTED = {
    "phcnn_lstm": (3, N1 + 2 * N2 + lstm(1024, 256) + linear(256, 3)),
    "phcnn": (3, N1 + 2 * N2 + linear(1024, 3)),
    "face_n1_lstm": (3, N1 + lstm(1024, 256) + linear(256, 3)),
    "idfnp": (7, INCEPTION_V3_NO_CLASSIFIER + DEEPID + linear(2048 + 160, 7)),
    "inception_v3_baseline": (7, INCEPTION_V3_NO_CLASSIFIER + linear(2048, 7)),
    "vgg16_palsy": (2, VGG16_FEATURES + linear(512, 512) + linear(512, 2)),
    "vgg19_palsy": (2, VGG19_FEATURES + linear(512, 512) + linear(512, 2)),
    "cascaded_encoder": (6, E1 + VGG16_FEATURES + GRADE_HEAD),
    "cascaded_encoder_e2e": (6, E1 + VGG16_FEATURES + GRADE_HEAD),
    "palsynet3d": (6, R3D18_NO_CLASSIFIER + linear(512, 6) + 6 * 512),  # + the 6 class centres
    "asymmetry_classifier": (7, linear(17, 64) + bn(64) + linear(64, 64) + bn(64) + linear(64, 7)),
}


@pytest.mark.parametrize("model_id", sorted(EXPECTED))
def test_parameter_count_matches_the_specification(registry, model_id):
    classes, expected = EXPECTED[model_id]
    assert count(build(registry.model(model_id), classes)) == expected


def test_palsynet3d_freezes_the_early_layers(registry):
    network = build(registry.model("palsynet3d"), 6)
    frozen = [n for n, p in network.named_parameters() if not p.requires_grad]
    assert frozen and all(n.split(".")[1] in ("stem", "layer1", "layer2", "layer3") for n in frozen)
    assert all(p.requires_grad for p in network.backbone.layer4.parameters())
    network.train()
    assert not network.backbone.layer2.training and network.backbone.layer4.training


def test_cascaded_stages_freeze_e1_for_grading(registry):
    model = registry.model("cascaded_encoder")
    network = build(model, 6)
    assert model.stages() == ("segmentation", "grade")
    model.prepare_stage(network, "segmentation")
    assert all(p.requires_grad for p in network.e1.parameters())
    assert not any(p.requires_grad for p in network.head.parameters())
    model.prepare_stage(network, "grade")
    assert not any(p.requires_grad for p in network.e1.parameters())
    assert not any(p.requires_grad for p in network.e2.parameters())  # VGG16 fixed, as in the paper
    assert all(p.requires_grad for p in network.head.parameters())
    e2e = registry.model("cascaded_encoder_e2e")
    assert e2e.stages() == ("grade",)
    e2e.prepare_stage(network, "grade")
    assert all(p.requires_grad for p in network.e1.resnet.parameters())
    assert all(p.requires_grad for p in network.e2.parameters())


def test_attention_scales_start_at_zero(registry):
    network = build(registry.model("cascaded_encoder"), 6)
    scales = [m.scale for m in network.e1.spatial] + [network.e1.channel.scale]
    assert all(float(s) == 0.0 for s in scales)


def test_center_loss_pulls_features_to_their_centres():
    from fpgrade.models.losses import CenterLoss

    loss = CenterLoss(2, 3)
    with torch.no_grad():
        loss.centers.copy_(torch.tensor([[0.0, 0, 0], [1.0, 1, 1]]))
    features = torch.tensor([[0.0, 0, 0], [1.0, 1, 1]])
    assert float(loss(features, torch.tensor([0, 1]))) == 0.0
    assert float(loss(features, torch.tensor([1, 0]))) == pytest.approx(1.5)


def test_inverse_frequency_class_weights():
    from fpgrade.models.losses import inverse_frequency_weights

    weights = inverse_frequency_weights([0, 0, 0, 1], 3)
    assert weights[0] < weights[1] and weights[2] == 0
    assert float(weights[:2].mean()) == pytest.approx(1.0)
