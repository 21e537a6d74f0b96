"""Crops and masks: face crops for each network, paper 000's regions, paper 002's
facial-attribute masks. See :mod:`fpgrade.face.crops` and :mod:`fpgrade.face.masks` for the
geometry and the deviations from the papers. OpenCV is imported where it is used."""

from fpgrade.hookspecs import hookimpl
from fpgrade.preprocess_api import Output, Preprocessor


class _FaceCrop(Preprocessor):
    size: int
    requires = ("image", "landmarks")

    def params(self):
        return {"size": self.size}

    def __call__(self, results):
        from fpgrade.face.crops import face_crop

        crop = face_crop(results["image"], results["landmarks"], self.size, results.get("movement"))
        return {self.provides[0]: crop}


def _face_crop_class(size: int, papers: str) -> type[_FaceCrop]:
    return type(f"FaceCrop{size}", (_FaceCrop,), {
        "id": f"face_crop_{size}",
        "size": size,
        "provides": (f"face_{size}",),
        "outputs": {f"face_{size}": Output(
            "uint8", f"({size}, {size}, 3)", f"levelled square face crop, RGB ({papers})", "image")},
        "description": f"Levelled square face crop, {size}x{size} ({papers}); movement-aware margins.",
        "__module__": __name__,
    })


FACE_CROPS = (
    _face_crop_class(128, "paper 000 branch N1"),
    _face_crop_class(224, "papers 002, 003"),
    _face_crop_class(299, "paper 001"),
    _face_crop_class(112, "paper 004, per frame"),
)


class RegionCrops(Preprocessor):
    id = "region_crops"
    description = "Paper 000's eye-brow and mouth regions, 40x120 each, from landmark extremes."
    requires = ("image", "landmarks")
    provides = ("eyebrow_region", "mouth_region")
    outputs = {"eyebrow_region": Output("uint8", "(40, 120, 3)", "both eyebrows, RGB (paper 000)",
                                        "image"),
               "mouth_region": Output("uint8", "(40, 120, 3)", "the mouth, RGB (paper 000)", "image")}

    def __call__(self, results):
        from fpgrade.face.crops import region_crops

        regions = region_crops(results["image"], results["landmarks"])
        return {"eyebrow_region": regions["eyebrow"], "mouth_region": regions["mouth"]}


class AttributeMasks(Preprocessor):
    id = "attribute_masks"
    description = "Facial-attribute label map (skin, brows, eyes, nose, lips, mouth) on the face crop."
    requires = ("image", "landmarks")
    provides = ("attribute_mask",)
    outputs = {"attribute_mask": Output(
        "uint8", "(224, 224)", "class index per pixel of face_224 (0 background, 1 skin, "
        "2 brows, 3 eyes, 4 nose, 5 lips, 6 mouth interior; fpgrade.face.masks)", "mask")}

    def __init__(self, size: int = 224) -> None:
        self.size = size

    def params(self):
        return {"size": self.size}

    def __call__(self, results):
        from fpgrade.face.crops import face_crop_mask
        from fpgrade.face.masks import attribute_mask

        full = attribute_mask(results["image"].shape, results["landmarks"])
        mask = face_crop_mask(full, results["landmarks"], self.size, results.get("movement"))
        return {"attribute_mask": mask}


@hookimpl
def register_preprocessors(register):
    for cls in FACE_CROPS:
        register(cls)
    register(RegionCrops)
    register(AttributeMasks)
