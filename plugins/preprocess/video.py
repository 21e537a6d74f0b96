"""Video: per-frame face landmarks (frames without a face dropped and counted), paper 004's
temporal normalisation to n face frames of 112 px, and paper 000's 4-frame clips."""

import numpy as np

from fpgrade.hookspecs import hookimpl
from fpgrade.preprocess_api import Preprocessor

# OpenCV and MediaPipe are imported where they are used, so listing the plugin costs nothing.


class VideoFaceLandmarks(Preprocessor):
    id = "video_face_landmarks"
    description = "Every stride-th frame with its face landmarks; faceless frames dropped, counted."
    requires = ("path",)
    provides = ("face_frames", "frame_landmarks", "frame_indices", "frames_dropped")

    def __init__(self, stride: int = 1, max_frames: int | None = None) -> None:
        self.stride, self.max_frames = stride, max_frames

    def params(self):
        return {"stride": self.stride, "max_frames": self.max_frames}

    def __call__(self, results):
        from fpgrade.face.analysis import analyse_video

        # One decode: the frames with a face are kept while the landmarks are found (or, when
        # the landmarks are cached, while the video is read once for its frames).
        kept = {}
        faces = analyse_video(results["path"], stride=self.stride, max_frames=self.max_frames,
                              on_frame=lambda index, frame, _: kept.__setitem__(index, frame))
        frames = [kept[int(i)] for i in faces.indices]
        return {"face_frames": frames, "frame_landmarks": faces.landmarks,
                "frame_indices": faces.indices, "frames_dropped": faces.frames_dropped}


class TemporalNormalisation(Preprocessor):
    id = "temporal_normalisation"
    description = "Paper 004: face crops normalised to n frames (duplicate when short, drop when long)."
    requires = ("face_frames", "frame_landmarks")
    provides = ("face_clip",)

    def __init__(self, n: int = 8, size: int = 112) -> None:
        self.n, self.size = n, size

    def params(self):
        return {"n": self.n, "size": self.size}

    def __call__(self, results):
        from fpgrade.face.crops import face_crop
        from fpgrade.video import normalise_length

        pairs = normalise_length(list(zip(results["face_frames"], results["frame_landmarks"])), self.n)
        movement = results.get("movement")
        return {"face_clip": np.stack([face_crop(f, lm, self.size, movement) for f, lm in pairs])}


class PhcnnSequences(Preprocessor):
    id = "phcnn_sequences"
    description = "Paper 000: clips of 4 consecutive face frames, each as face 128 + two 40x120 regions."
    requires = ("face_frames", "frame_landmarks")
    provides = ("sequence_face", "sequence_eyebrow", "sequence_mouth")

    def __init__(self, length: int = 4, step: int | None = None) -> None:
        self.length, self.step = length, step

    def params(self):
        return {"length": self.length, "step": self.step}

    def __call__(self, results):
        from fpgrade.face.crops import face_crop, region_crops
        from fpgrade.video import clips

        movement = results.get("movement")
        faces, brows, mouths = [], [], []
        for frame, landmarks in zip(results["face_frames"], results["frame_landmarks"]):
            faces.append(face_crop(frame, landmarks, 128, movement))
            regions = region_crops(frame, landmarks)
            brows.append(regions["eyebrow"])
            mouths.append(regions["mouth"])

        def cut(frames):
            windows = clips(frames, self.length, self.step)
            return np.stack([np.stack(w) for w in windows]) if windows else np.empty((0, self.length))

        return {"sequence_face": cut(faces), "sequence_eyebrow": cut(brows),
                "sequence_mouth": cut(mouths)}


@hookimpl
def register_preprocessors(register):
    register(VideoFaceLandmarks)
    register(TemporalNormalisation)
    register(PhcnnSequences)
