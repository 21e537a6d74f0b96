"""Video: per-frame face landmarks (frames without a face dropped and counted), paper 004's
temporal normalisation to n face frames of 112 px, and paper 000's 4-frame clips."""

import numpy as np

from fpgrade.hookspecs import hookimpl
from fpgrade.preprocess_api import Output, Preprocessor

# OpenCV and MediaPipe are imported where they are used, so listing the plugin costs nothing.


class VideoFaceLandmarks(Preprocessor):
    id = "video_face_landmarks"
    description = "Every stride-th frame with its face landmarks; faceless frames dropped, counted."
    requires = ("path",)
    provides = ("face_frames", "frame_landmarks", "frame_indices", "frames_dropped")
    outputs = {
        "face_frames": Output("list[uint8]", "(F, H, W, 3)", "the F frames with a face, RGB"),
        "frame_landmarks": Output("list[FaceLandmarks]", "(F,)", "the landmarks of each face frame"),
        "frame_indices": Output("int64", "(F,)", "each face frame's index in the video"),
        "frames_dropped": Output("int", "", "frames read without a face"),
    }

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
    outputs = {"face_clip": Output("uint8", "(8, 112, 112, 3)", "n = 8 face crops of 112 px, RGB "
                                   "(paper 004; n and size are parameters)", "clip")}

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
    outputs = {
        "sequence_face": Output("uint8", "(C, 4, 128, 128, 3)", "C clips of 4 consecutive face "
                                "crops, RGB (paper 000); one clip, (4, 128, 128, 3), is a "
                                "`sequence` input"),
        "sequence_eyebrow": Output("uint8", "(C, 4, 40, 120, 3)", "the eyebrow regions of the same "
                                   "clips; one clip is a `sequence` input"),
        "sequence_mouth": Output("uint8", "(C, 4, 40, 120, 3)", "the mouth regions of the same "
                                 "clips; one clip is a `sequence` input"),
    }

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
