"""Every table of fpgrade, in one module (the sqlmodel tutorial's layout).

Subjects are pseudonymous: a subject has a ``code`` chosen by the research group and nothing that
names a person. Media are stored once per content hash (sha256). Annotations record who labelled
what, in which pass of the triple-check workflow, on which scale, from which source.
"""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint, false
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class MediaKind(str, Enum):
    IMAGE = "image"
    VIDEO = "video"


class AnnotationSource(str, Enum):
    UI = "ui"
    LABEL_STUDIO = "label-studio"
    IMPORT = "import"


class Subject(SQLModel, table=True):
    """A pseudonymous patient or control (no names: ``code`` is the group's pseudonym)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=128)
    created_at: datetime = Field(default_factory=utcnow)


class Visit(SQLModel, table=True):
    """One recording session of a subject (baseline, follow-up...)."""

    __table_args__ = (UniqueConstraint("subject_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    name: str = Field(default="default", max_length=128)
    recorded_on: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Media(SQLModel, table=True):
    """A photo or video, stored once per content hash."""

    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visit.id", index=True)
    path: str
    sha256: str = Field(index=True, unique=True, min_length=64, max_length=64)
    kind: MediaKind
    movement: str | None = Field(default=None, description="MV0-MV6 or free text")
    source: AnnotationSource = AnnotationSource.IMPORT
    width: int | None = None
    height: int | None = None
    frames: int | None = None
    synthetic: bool = Field(
        default=False,
        sa_column_kwargs={"server_default": false()},
        description="Made by fpgrade synth (not clinical data): never report results on it as clinical.",
    )
    created_at: datetime = Field(default_factory=utcnow)


class Annotation(SQLModel, table=True):
    """One annotator's label for one medium, in one pass, on one scale."""

    __table_args__ = (UniqueConstraint("media_id", "annotator", "pass_number", "scale"),)

    id: int | None = Field(default=None, primary_key=True)
    media_id: int = Field(foreign_key="media.id", index=True)
    annotator: str = Field(max_length=128)
    pass_number: int = Field(default=1, ge=1)
    scale: str = Field(max_length=64)
    label: str = Field(max_length=32)
    source: AnnotationSource = AnnotationSource.IMPORT
    created_at: datetime = Field(default_factory=utcnow)


class ModelVersion(SQLModel, table=True):
    """A trained weight file of a registered model."""

    __table_args__ = (UniqueConstraint("model_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    model_id: str = Field(index=True, max_length=64)
    version: str = Field(max_length=64)
    scale: str = Field(max_length=64)
    weights_sha256: str = Field(max_length=64)
    weights_path: str
    card: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)


class TrainingRun(SQLModel, table=True):
    """One training (or retraining) run and where it stands."""

    id: int | None = Field(default=None, primary_key=True)
    model_id: str = Field(index=True, max_length=64)
    scale: str = Field(max_length=64)
    protocol: str = Field(max_length=64)
    status: str = Field(default="queued", max_length=16)
    out_dir: str | None = None
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    model_version_id: int | None = Field(default=None, foreign_key="modelversion.id")
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class Prediction(SQLModel, table=True):
    """A model's output for one medium, stamped with the model version and weight hash."""

    id: int | None = Field(default=None, primary_key=True)
    media_id: int = Field(foreign_key="media.id", index=True)
    model_id: str = Field(max_length=64)
    model_version: str = Field(max_length=64)
    weights_sha256: str | None = Field(default=None, max_length=64)
    scale: str = Field(max_length=64)
    label: str = Field(max_length=32)
    probabilities: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)


class Assessment(SQLModel, table=True):
    """A graded set saved by a clinician for one visit: the eFACE and Sunnybrook items and scores,
    the trained models' grades (with their versions) and the measurements, as the page showed
    them. The photos themselves are not kept (only where the user saves them)."""

    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visit.id", index=True)
    healthy_side: str | None = Field(default=None, max_length=8)
    eface: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    sunnybrook: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    grades: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    measurements: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)
