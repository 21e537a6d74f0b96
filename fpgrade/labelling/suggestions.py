"""Model suggestions: the latest stored prediction for a medium, and what a pass records about
the suggestion its page showed (model version, label, probability, accepted or not)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from fpgrade.storage.tables import ModelVersion, Prediction


@dataclass(frozen=True)
class Suggestion:
    """A model's suggestion as shown to a rater."""

    model_version: str
    label: str
    probability: float | None = None


def latest_suggestion(session: Session, media_id: int, scale: str,
                      model_version: str | None = None) -> Suggestion | None:
    """The latest stored prediction for a medium on ``scale`` (of one model version if given)."""
    query = (select(Prediction, ModelVersion.version)
             .join(ModelVersion, Prediction.model_version_id == ModelVersion.id)
             .where(Prediction.media_id == media_id, Prediction.scale == scale))
    if model_version is not None:
        query = query.where(ModelVersion.version == model_version)
    row = session.exec(query.order_by(Prediction.created_at.desc(), Prediction.id.desc())).first()
    if row is None:
        return None
    found, version = row
    return Suggestion(version, found.label, (found.probabilities or {}).get(found.label))



def suggestion_fields(suggestion: Suggestion | None, label: str | None) -> dict[str, object]:
    if suggestion is None:
        return {"suggestion_shown": False}
    return {"suggestion_shown": True, "suggestion_model_version": suggestion.model_version,
            "suggestion_label": suggestion.label, "suggestion_probability": suggestion.probability,
            "suggestion_accepted": label is not None and label == suggestion.label}


