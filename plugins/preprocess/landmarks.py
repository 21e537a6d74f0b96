"""Photo loading and face landmarks (MediaPipe 478-point mesh with iris, mapped to iBUG-68).

Paper 000 detects faces with AdaBoost (Viola-Jones) and fits 49 IntraFace landmarks; paper 004
uses its own Integrated Deep Model. Deviation: MediaPipe detection and face mesh for all papers,
with OpenCV's Viola-Jones cascade only as the fallback detector.
"""

from pathlib import Path

from fpgrade.hookspecs import hookimpl
from fpgrade.preprocess_api import Output, Preprocessor

# Heavy modules (OpenCV, MediaPipe, Pillow) are imported where they are used, so that loading the
# plugin to list it costs nothing.


class ImageLoader(Preprocessor):
    id = "image_loader"
    description = "Read a photo as RGB (EXIF orientation, greyscale and alpha handled, size limit)."
    requires = ("path",)
    provides = ("image",)
    outputs = {"image": Output("uint8", "(H, W, 3)", "the photo, RGB, upright (EXIF applied)")}

    def __call__(self, results):
        from fpgrade.imageio import load_image

        return {"image": load_image(Path(results["path"]))}


class FaceLandmarker(Preprocessor):
    id = "face_landmarks"
    description = "Largest face: MediaPipe box, 478-point mesh, iBUG-68 points, iris circles."
    requires = ("image",)
    provides = ("landmarks",)
    outputs = {"landmarks": Output(
        "FaceLandmarks", "", "the largest face: box, 478-point mesh, iBUG-68 points (.ibug68, 68 x 2 "
        "pixels), iris circles (fpgrade.face.landmarks); a network takes it through asymmetry_features")}

    def __init__(self, strict: bool = False) -> None:
        self.strict = strict

    def params(self):
        from fpgrade.face.analysis import landmark_params

        return landmark_params()

    def __call__(self, results):
        from fpgrade.face.analysis import check_face_count, landmarks_of, photo_landmarks

        path = results.get("path")
        if path is None:
            landmarks = landmarks_of(results["image"])
            check_face_count(landmarks, strict=self.strict, source="image")
        else:
            landmarks = photo_landmarks(Path(path), results["image"], strict=self.strict)
        return {"landmarks": landmarks}


@hookimpl
def register_preprocessors(register):
    register(ImageLoader)
    register(FaceLandmarker)
