"""Every table of fpgrade, in one module (the sqlmodel tutorial's layout).

Subjects are pseudonymous: a subject has a ``code`` chosen by the research group and nothing that
names a person. Media are stored once per content hash (sha256). Annotations record who labelled
what, in which pass of the triple-check workflow, on which scale, from which source.

The triple-check labelling tables (issue 11; rules in :mod:`fpgrade.labelling`): users, campaigns,
assignments, second-check results, final labels and the audit log. Their kinds and states are
short strings (the constants of :mod:`fpgrade.labelling.model`), not database enums, so that the
same migration serves SQLite and PostgreSQL. User names are logins, never patient names.
"""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, UniqueConstraint, false, text, true
from sqlmodel import Field, SQLModel

from fpgrade.media import MediaKind  # noqa: F401  (re-exported: defined without SQLAlchemy)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


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
    """One annotator's label for one medium, in one pass, on one scale.

    ``pass_kind`` says what the pass was (``blind``, ``adjudication``, ``imported``,
    ``label-studio``); a blind label is never final on its own (see :class:`FinalLabel`).
    ``label`` is empty when the rater could not grade the medium (``cannot_grade`` gives the
    reason). The model suggestion, when one was shown, is stored with its model version and
    whether the rater's label is the suggested one.
    """

    __table_args__ = (UniqueConstraint("media_id", "annotator", "pass_number", "scale"),)

    id: int | None = Field(default=None, primary_key=True)
    media_id: int = Field(foreign_key="media.id", index=True)
    annotator: str = Field(max_length=128)
    pass_number: int = Field(default=1, ge=1)
    scale: str = Field(max_length=64)
    label: str | None = Field(default=None, max_length=32)
    source: AnnotationSource = AnnotationSource.IMPORT
    pass_kind: str = Field(default="imported", max_length=16,
                           sa_column_kwargs={"server_default": "imported"})
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id", index=True)
    assignment_id: int | None = Field(default=None, foreign_key="assignment.id", unique=True)
    user_id: int | None = Field(default=None, foreign_key="useraccount.id")
    cannot_grade: str | None = Field(default=None, max_length=32)
    note: str | None = Field(default=None, max_length=1000)
    suggestion_shown: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    suggestion_model_version: str | None = Field(default=None, max_length=64)
    suggestion_label: str | None = Field(default=None, max_length=32)
    suggestion_probability: float | None = None
    suggestion_accepted: bool | None = None
    created_at: datetime = Field(default_factory=utcnow)


class User(SQLModel, table=True):
    """A login of the labelling tool (a rater's user name, never a patient's name)."""

    __tablename__ = "useraccount"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=64)
    password_hash: str = Field(max_length=256)
    role: str = Field(max_length=16)
    disabled: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    created_at: datetime = Field(default_factory=utcnow)


class WebSession(SQLModel, table=True):
    """A login session of the served pages: the cookie holds a random token, this row its
    SHA-256 (a stolen database gives no usable cookie). Ended by logout, by an idle time, and
    for every session of a user when the user is disabled, changes role or password."""

    id: int | None = Field(default=None, primary_key=True)
    token_sha256: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="useraccount.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    client: str | None = Field(default=None, max_length=64)


class Campaign(SQLModel, table=True):
    """A labelling campaign: which media, on which scale, how many blind passes, and its rules."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=128)
    scale: str = Field(max_length=64)
    movements: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    selection: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    blind_passes: int = Field(default=2, ge=2)
    allow_same_rater: bool = Field(default=False)
    min_gap_s: int = Field(default=0, ge=0)
    suggestions_in_blind: bool = Field(default=False)
    check_model_version: str | None = Field(default=None, max_length=64)
    range_percentile: float = Field(default=0.0, ge=0, lt=50)
    min_range_samples: int = Field(default=3, ge=1)
    state: str = Field(default="open", max_length=16)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    #: a video's blind pass is refused until the page reports it played to its end
    videos_must_play: bool = Field(default=True, sa_column_kwargs={"server_default": true()})
    #: the campaign's guideline for raters, Markdown written by the admin (rendered safely)
    guideline: str | None = Field(default=None, max_length=20000)
    #: what one grade covers: ``medium`` or ``visit`` (one grade per subject's visit, all its
    #: movements side by side; :mod:`fpgrade.labelling.units`)
    unit: str = Field(default="medium", max_length=16,
                      sa_column_kwargs={"server_default": "medium"})


class Assignment(SQLModel, table=True):
    """Who labels which medium in which pass of a campaign; ``state`` open, claimed or done."""

    __table_args__ = (UniqueConstraint("campaign_id", "media_id", "pass_number"),
                      Index("ix_assignment_campaign_state", "campaign_id", "state"))

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    media_id: int = Field(foreign_key="media.id", index=True)
    pass_kind: str = Field(max_length=16)
    pass_number: int = Field(ge=1)
    state: str = Field(default="open", max_length=16)
    user_id: int | None = Field(default=None, foreign_key="useraccount.id", index=True)
    order_key: int = Field(default=0)
    claimed_at: datetime | None = None
    done_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    played_at: datetime | None = None    # the page reported the video played to its end


class CheckResult(SQLModel, table=True):
    """The second check of one medium in a campaign: the method and version used, the indices,
    the ranges they were compared with, and the outcome (agree, disagree, undecided)."""

    __table_args__ = (UniqueConstraint("campaign_id", "media_id"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    media_id: int = Field(foreign_key="media.id", index=True)
    scale: str = Field(max_length=64)
    label: str = Field(max_length=32)
    method: str = Field(max_length=16)
    version: str = Field(max_length=64)
    indices: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    ranges: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    outcome: str = Field(max_length=16)
    reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)


class FinalLabel(SQLModel, table=True):
    """The one label of a medium on a scale that training, export and sync read.

    ``method``: ``agreed_checked`` (blind passes agreed and the second check agreed),
    ``adjudicated`` (decided by an adjudicator, ``reason`` given) or ``imported``.
    """

    __table_args__ = (UniqueConstraint("media_id", "scale"),)

    id: int | None = Field(default=None, primary_key=True)
    media_id: int = Field(foreign_key="media.id", index=True)
    scale: str = Field(max_length=64)
    label: str = Field(max_length=32)
    method: str = Field(max_length=16)
    decided_by: str = Field(max_length=128)
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id")
    annotation_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON))
    check_result_id: int | None = Field(default=None, foreign_key="checkresult.id")
    reason: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)


class AuditEvent(SQLModel, table=True):
    """Who did what, when: one row per state change of the labelling workflow."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=32)
    campaign_id: int | None = Field(default=None, index=True)
    media_id: int | None = None
    assignment_id: int | None = None
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class ModelVersion(SQLModel, table=True):
    """A trained weight file of a registered model, and its place in the version registry.

    One identity per version: ``version`` is :func:`fpgrade.models.versions.version_name` (model
    and weights hash). ``status`` is ``candidate`` (trained, not serving), ``current`` (the one
    version that grades its scale: at most one per scale), ``rejected`` (kept, not served;
    ``status_reason`` says why) or ``retired`` (was current). Rules in
    :mod:`fpgrade.models.lifecycle`. ``data_snapshot`` holds the final-label ids it was trained
    on and ``data_snapshot_sha256`` their hash; ``test_metrics`` its metrics on the fixed test
    split.
    """

    __table_args__ = (UniqueConstraint("model_id", "version"),
                      Index("uq_modelversion_one_current", "scale", unique=True,
                            sqlite_where=text("status = 'current'"),
                            postgresql_where=text("status = 'current'")))

    id: int | None = Field(default=None, primary_key=True)
    model_id: str = Field(index=True, max_length=64)
    version: str = Field(max_length=64)
    scale: str = Field(max_length=64)
    weights_sha256: str = Field(max_length=64)
    weights_path: str
    card: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    status: str = Field(default="candidate", max_length=16, index=True,
                        sa_column_kwargs={"server_default": "candidate"})
    status_reason: str | None = Field(default=None, max_length=1000)
    promoted_by: str | None = Field(default=None, max_length=64)
    promoted_at: datetime | None = None
    # use_alter: trainingrun.model_version_id points back here (a cycle the sorter must not see)
    training_run_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("trainingrun.id", use_alter=True, name="fk_modelversion_training_run_id"),
        nullable=True))
    parent_version_id: int | None = Field(default=None, foreign_key="modelversion.id")
    data_snapshot: list[int] = Field(default_factory=list, sa_column=Column(JSON))
    data_snapshot_sha256: str | None = Field(default=None, max_length=64)
    test_metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
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
    """A model version's output for one medium. The version (model, weights hash) is the row
    ``model_version_id`` points at: one identity, never a copied name."""

    id: int | None = Field(default=None, primary_key=True)
    media_id: int = Field(foreign_key="media.id", index=True)
    model_version_id: int = Field(foreign_key="modelversion.id", index=True)
    scale: str = Field(max_length=64)
    label: str = Field(max_length=32)
    probabilities: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)


class Assessment(SQLModel, table=True):
    """A graded set saved by a clinician for one visit: the eFACE and Sunnybrook items and scores,
    the trained models' grades (with their versions) and the measurements, as the page showed
    them. The photos themselves are kept only where the clinician asks for it
    (:class:`VisitPhoto`)."""

    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visit.id", index=True)
    healthy_side: str | None = Field(default=None, max_length=8)
    eface: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    sunnybrook: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    grades: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    measurements: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)


class VisitPhoto(SQLModel, table=True):
    """A photo of a saved assessment, kept only where the clinician asked for it at save (issue
    19): the copy of the photo and of its overlay (landmarks and measurement lines) under the
    data folder, as paths relative to it (``visit_photos/<assessment id>/...``), so that moving
    the data folder keeps them. Deleted with the assessment (:mod:`fpgrade.clinic.visit_photos`).
    ``photo`` is ``None`` where only the overlay exists (a video's graded frame)."""

    __table_args__ = (UniqueConstraint("assessment_id", "movement"),)

    id: int | None = Field(default=None, primary_key=True)
    assessment_id: int = Field(foreign_key="assessment.id", index=True)
    movement: str = Field(max_length=32)
    name: str = Field(max_length=255)
    kind: str = Field(default="image", max_length=16)
    photo: str | None = Field(default=None, max_length=500)
    overlay: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)


class LsProject(SQLModel, table=True):
    """A Label Studio project that fpgrade syncs with (issue 12): the server, its project id, the
    campaign whose media it holds, and the pull cursor (the newest annotation update pulled)."""

    __table_args__ = (UniqueConstraint("url", "project_id"),)

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=500)
    project_id: int
    title: str = Field(max_length=200)
    scale: str = Field(max_length=64)
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id", index=True)
    pull_cursor: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class LsTask(SQLModel, table=True):
    """A medium pushed as a Label Studio task (one per medium and project)."""

    __table_args__ = (UniqueConstraint("ls_project_id", "media_id"),
                      UniqueConstraint("ls_project_id", "task_id"))

    id: int | None = Field(default=None, primary_key=True)
    ls_project_id: int = Field(foreign_key="lsproject.id", index=True)
    media_id: int = Field(foreign_key="media.id")
    task_id: int
    prediction_id: int | None = Field(default=None, foreign_key="prediction.id")
    created_at: datetime = Field(default_factory=utcnow)


class LsAnnotation(SQLModel, table=True):
    """A Label Studio annotation pulled into :class:`Annotation` (its id there, and the update
    time last seen, so that an edit is applied once and a re-run adds nothing)."""

    __table_args__ = (UniqueConstraint("ls_project_id", "ls_annotation_id"),)

    id: int | None = Field(default=None, primary_key=True)
    ls_project_id: int = Field(foreign_key="lsproject.id", index=True)
    ls_annotation_id: int
    annotation_id: int | None = Field(default=None, foreign_key="annotation.id")
    updated_at: str = Field(max_length=64)
    deleted: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
