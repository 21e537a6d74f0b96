"""Set-ups shared by the Label Studio sync tests: media files the server can serve, a campaign,
and a promoted model version with stored predictions (no network needs to run)."""

from __future__ import annotations

import hashlib
import itertools

import numpy as np
from sqlmodel import select

from fpgrade.labelling.campaigns import create_campaign
from fpgrade.models import lifecycle
from fpgrade.models.versions import version_name
from fpgrade.storage import database
from fpgrade.storage.tables import Media, ModelVersion, Prediction
from tests.labelling_helpers import add_media
from tests.media_factory import astronaut, write_image

_names = itertools.count()


def campaign_with_files(registry, server, count: int, name: str | None = None,
                        **campaign) -> tuple[str, list[int]]:
    """A sided7 campaign of ``count`` photos written under the server's files root."""
    name = name or f"c{next(_names)}"
    ids = add_media(count, prefix=name + "P")
    with database.session() as session:
        for media_id in ids:
            medium = session.get(Media, media_id)
            rgb = astronaut().copy()
            rgb[0, 0] = (media_id, 7, 7)  # distinct files
            path = write_image(server.files_root / name / f"{media_id}.png", rgb)
            medium.path = str(path)
            session.add(medium)
        session.commit()
        create_campaign(session, name, "sided7", registry=registry, **campaign)
    return name, ids


def promoted_version_with_predictions(tmp_path, scale, predictions: dict[int, dict[str, float]]) -> str:
    """A promoted sided7 version (a weight file of dummy bytes) whose predictions are stored."""
    content = tmp_path.name.encode() + b"weights"
    path = tmp_path / "best.safetensors"
    path.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    name = version_name("asymmetry_classifier", digest)
    with database.session() as session:
        row = ModelVersion(model_id="asymmetry_classifier", version=name, scale=scale.id,
                           weights_sha256=digest, weights_path=str(path))
        session.add(row)
        session.flush()
        for media_id, probabilities in predictions.items():
            label = max(probabilities, key=probabilities.get)
            session.add(Prediction(media_id=media_id, model_version_id=row.id, scale=scale.id,
                                   label=label, probabilities=probabilities))
        session.commit()
        lifecycle.promote(session, name, by="tester")
    return name


def probabilities(scale, top: str, p: float) -> dict[str, float]:
    rest = (1.0 - p) / (len(scale.codes) - 1)
    return {code: (p if code == top else rest) for code in scale.codes}


def stored_predictions(media_id: int) -> list[Prediction]:
    with database.session() as session:
        return list(session.exec(select(Prediction).where(Prediction.media_id == media_id)).all())


__all__ = ["campaign_with_files", "promoted_version_with_predictions", "probabilities", "np"]
