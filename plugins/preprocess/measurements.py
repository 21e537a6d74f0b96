"""Clinical measurements (Emotrics set, iris ruler) and paper 001's asymmetry indices.
Formulas and deviations: :mod:`fpgrade.face.measure`."""

from fpgrade.face.measure import IRIS_DIAMETER_MM, measure_face
from fpgrade.hookspecs import hookimpl
from fpgrade.preprocess_api import Output, Preprocessor


class EmotricsMeasurements(Preprocessor):
    id = "emotrics_measurements"
    description = ("Brow height, MRD1/2, fissure, commissure excursion, smile angle, dental show (mm), "
                   "with quality flags; an implausible iris scale or a tilted level is replaced "
                   "and flagged.")
    requires = ("landmarks",)
    provides = ("measurements",)
    outputs = {"measurements": Output(
        "FaceMeasurements", "", "Emotrics measurements per side in mm, deviations, asymmetry "
        "indices and quality flags (fpgrade.face.measure); a network takes them through "
        "asymmetry_features")}

    def __init__(self, iris_diameter_mm: float = IRIS_DIAMETER_MM) -> None:
        self.iris_diameter_mm = iris_diameter_mm

    def params(self):
        return {"iris_diameter_mm": self.iris_diameter_mm}

    def __call__(self, results):
        return {"measurements": measure_face(results["landmarks"],
                                             iris_diameter_mm=self.iris_diameter_mm)}


class AsymmetryIndices(Preprocessor):
    id = "asymmetry_indices"
    description = "Paper 001: EAs, EBAs, NAs, MAs, MAn, NAn, EbAn, RgAs, AnAs."
    requires = ("measurements",)
    provides = ("asymmetry",)
    outputs = {"asymmetry": Output("dict", "", "paper 001's indices by name (str -> float)")}

    def __call__(self, results):
        return {"asymmetry": dict(results["measurements"].asymmetry)}


@hookimpl
def register_preprocessors(register):
    register(EmotricsMeasurements)
    register(AsymmetryIndices)
