"""Words a clinician reads for the measurements, their normal values, and when a percentage means
something. The page, the PDF and the CSV all take their words from here (the CSV keeps the
stable id beside them, e.g. ``MRD1 (margin-reflex distance 1), mm [mrd1]``).

Normal values: only where a published study of healthy adults measured the same quantity.

- MRD1 and MRD2: Rana K, Beecher MB, Caltabiano C, Zhao Y, Verjans J, Selva D. "Normal periocular
  anthropometric measurements in an Australian population." Int Ophthalmol 2023;43(8): 380
  healthy adults photographed with a 24 mm calibration dot, mean MRD1 3.5 mm, MRD2 5.2 mm (the
  abstract gives means only; MRD1 falls with age).
- Palpebral fissure height: Malik TG, Moin M, Afzal MA, Akhtar FK, Alam R. "Orbital and
  periorbital anthropometric variations and effect of age and gender on these variables."
  Ophthalmol J 2022 (doi 10.5603/OJ.2022.0009): 380 people aged 15 and over, measured with a
  millimetre ruler, mean 10.0 mm (MRD1 4.2 mm, MRD2 5.9 mm in the same study).
- Every other measurement (brow height above the iris centre, commissure excursion, smile
  angle, dental show, lip-height deviations): no normative data is used; the reference is the
  patient's other side (a symmetric face has a difference of 0).

Deviation: these studies measured with a ruler or a calibration dot; fpgrade's millimetres come
from the iris diameter (11.77 mm, Emotrics), so compare with care.
"""

from __future__ import annotations

from dataclasses import dataclass

RANA_2023 = "Rana et al., Int Ophthalmol 2023 (380 healthy adults, photographs)"
MALIK_2022 = "Malik et al., Ophthalmol J 2022 (380 adults, ruler)"
NO_NORM = "no normative data used: compare with the other side"
# Under this value (mm) on either side a percentage of the difference is not shown: a ratio of
# two values near zero (MRD1 -0.04 vs 0.19 mm) is noise, not 120 % asymmetry.
PERCENT_FLOOR_MM = 1.0


@dataclass(frozen=True)
class Measure:
    """A measurement in words: ``short`` (e.g. MRD1), ``words`` (what it is), normal value."""

    id: str
    short: str
    words: str
    unit: str
    normal: str = ""  # e.g. "mean 3.5 mm" in healthy adults, "" where no normative data is used
    source: str = ""  # the study the normal value comes from
    symmetric: bool = False  # a difference of the two sides: 0 in a symmetric face

    @property
    def normal_text(self) -> str:
        """The normal value in words with its source, or says that none is used."""
        if self.normal:
            return f"healthy adults: {self.normal} ({self.source})"
        return ("0 in a symmetric face; " if self.symmetric else "") + NO_NORM

    @property
    def label(self) -> str:
        return self.short if self.short == self.words else f"{self.short} ({self.words})"

    @property
    def csv_header(self) -> str:
        return f"{self.label}, {self.unit} [{self.id}]"


MEASURES: dict[str, Measure] = {m.id: m for m in (
    Measure("brow_height", "Brow height", "iris centre to eyebrow", "mm"),
    Measure("mrd1", "MRD1", "margin-reflex distance 1: iris centre to upper lid", "mm",
            "mean 3.5 mm", RANA_2023),
    Measure("mrd2", "MRD2", "margin-reflex distance 2: iris centre to lower lid", "mm",
            "mean 5.2 mm", RANA_2023),
    Measure("palpebral_fissure_height", "Eye opening", "palpebral fissure height", "mm",
            "mean 10.0 mm", MALIK_2022),
    Measure("commissure_excursion", "Commissure excursion",
            "lower-lip midpoint to mouth corner", "mm"),
    Measure("smile_angle", "Smile angle", "mouth corner elevation seen from the lower-lip "
            "midpoint, 90 = level", "degrees"),
    Measure("dental_show", "Dental show", "teeth visible between the lips", "mm"),
    Measure("commissure_height_deviation", "Mouth-corner height difference",
            "vertical offset of the two corners", "mm", symmetric=True),
    Measure("upper_lip_height_deviation", "Upper-lip height difference",
            "vertical offset of the two upper-lip halves", "mm", symmetric=True),
    Measure("lower_lip_height_deviation", "Lower-lip height difference",
            "vertical offset of the two lower-lip halves", "mm", symmetric=True),
)}

# Measurement order on the page: eyes and brows first, then the mouth (top to bottom of the face).
ORDER = ("brow_height", "mrd1", "mrd2", "palpebral_fissure_height", "commissure_excursion",
         "smile_angle", "dental_show", "commissure_height_deviation",
         "upper_lip_height_deviation", "lower_lip_height_deviation")

FLAG_WORDS = {
    "eye_closed": "eye closed: iris centre guessed",
    "extrapolated": "read beyond the landmarks",
    "reordered": "lip landmarks out of order",
    "face_turned": "face turned",
    "uncertain_landmarks": "uncertain landmarks",
    "low_confidence": "face found with low confidence",
}

# Scores: the range of each and its normal value, with the source.
SCORE_RANGES = {
    ("eface", "static"): ("0-100", "100", "Banks et al. 2015: 100 = the two sides match"),
    ("eface", "dynamic"): ("0-100", "100", "Banks et al. 2015"),
    ("eface", "synkinesis"): ("0-100", "100", "Banks et al. 2015: 100 = no synkinesis"),
    ("eface", "total"): ("0-100", "100", "Banks et al. 2015"),
    ("sunnybrook", "resting"): ("0-20", "0", "Ross et al. 1996: 0 = symmetric at rest"),
    ("sunnybrook", "voluntary"): ("20-100", "100", "Ross et al. 1996"),
    ("sunnybrook", "synkinesis"): ("0-15", "0", "Ross et al. 1996"),
    ("sunnybrook", "composite"): ("0-100", "100", "Ross et al. 1996: 100 = normal function"),
}
EFACE_ITEM_RANGE = ("0-100", "100", "Banks et al. 2015: 100 = like the healthy side; 0 = worst")
REGION_WORDS = {"brow": "brow", "eye": "eye", "nose": "nose (nasal wings)", "mouth": "mouth"}
SCORE_WORDS = {"static": "at rest (static)", "dynamic": "movement (dynamic)",
               "synkinesis": "synkinesis", "total": "total", "resting": "resting symmetry",
               "voluntary": "voluntary movement", "composite": "composite"}


def measure(name: str) -> Measure:
    """The words of a measurement id (an unknown id is shown as itself, in words)."""
    return MEASURES.get(name) or Measure(name, name.replace("_", " ").capitalize(),
                                         name.replace("_", " "), "")


def percent_shown(left: float, right: float, percent: float | None, unit: str) -> float | None:
    """The percentage difference where it means something: millimetres only (an angle's
    percentage of 90 degrees says nothing), and both sides at least :data:`PERCENT_FLOOR_MM`."""
    if percent is None or unit != "mm":
        return None
    if min(abs(left), abs(right)) < PERCENT_FLOOR_MM:
        return None
    return percent


def flag_words(flags) -> str:
    return "; ".join(FLAG_WORDS.get(f, f.replace("_", " ")) for f in flags)


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 22nd ..."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def scale_words(scale_id: str) -> str:
    """A grading scale's name in words (from the registry), with its id where it differs."""
    from fpgrade.registry import get_registry

    scale = get_registry().scales.get(scale_id)
    return scale.name if scale is not None else scale_id.replace("_", " ")
