"""The photos a clinician keeps with a saved assessment (issue 19: "before and after").

Opt-in per assessment (the page's checkbox at save, off by default). What is kept, for each
graded photo of the set: a copy of the photo file as uploaded (a video's is not copied: only its
graded frame, as the overlay) and its overlay (landmarks and measurement lines) as a PNG, under
the data folder::

    DATA/visit_photos/<assessment id>-<random>/<movement>.<ext>
    DATA/visit_photos/<assessment id>-<random>/<movement>.overlay.png

(the random part because SQLite may give a deleted assessment's id to the next one: a folder is
never shared by two assessments, and removing one never touches another's).

The folder is private (0700, files 0600: :mod:`fpgrade.storage.database` makes the data folder
private for the same reason); the rows (:class:`~fpgrade.storage.tables.VisitPhoto`) hold paths
relative to the data folder. Nothing here sends a file anywhere: the clinician page shows them
through its own outputs, to its own users only. Deleting the assessment deletes its rows and
its folder (:func:`remove_folders` after the rows' transaction commits).
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlmodel import Session, select

from fpgrade.errors import FpgradeError
from fpgrade.settings import get_settings
from fpgrade.storage.tables import VisitPhoto

FOLDER = "visit_photos"
PRIVATE_FOLDER, PRIVATE_FILE = 0o700, 0o600


@dataclass(frozen=True)
class Kept:
    """A photo to keep: its movement key, the file as uploaded (``None``: keep only the overlay),
    the name shown, ``image`` or ``video``, and the overlay (RGB array) where one was drawn."""

    movement: str
    source: str | None
    name: str
    kind: str = "image"
    overlay: np.ndarray | None = None


def root() -> Path:
    """``DATA/visit_photos`` (the settings' data folder); not created here."""
    return get_settings().data_dir / FOLDER


def new_folder(assessment_id: int) -> Path:
    """A new folder name for an assessment's photos (not created here)."""
    return root() / f"{int(assessment_id)}-{secrets.token_hex(4)}"


def folder_of(row: VisitPhoto) -> Path | None:
    """The folder holding a row's files (``None`` for a row whose paths leave the photos'
    folder)."""
    path = absolute(row.overlay or row.photo)
    return path.parent if path is not None and path.parent != root().resolve() else None


def absolute(relative: str | None) -> Path | None:
    """A stored relative path under the data folder; ``None`` for ``None`` or a path that
    leaves the photos' folder (a row edited by hand never points elsewhere)."""
    if not relative:
        return None
    base = root().resolve()
    path = (get_settings().data_dir / relative).resolve()
    return path if path.is_relative_to(base) else None


def _private_folder(path: Path) -> None:
    """The data folder, ``visit_photos`` and ``path``, each created private where missing
    (another process may create one at the same moment: that is no error)."""
    data_dir = get_settings().data_dir
    if not data_dir.is_dir():
        data_dir.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    for part in (root(), path):
        part.mkdir(mode=PRIVATE_FOLDER, exist_ok=True)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _png(rgb: np.ndarray) -> bytes:
    import cv2

    ok, data = cv2.imencode(".png", cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR))
    if not ok:
        raise FpgradeError("an overlay could not be written as PNG")
    return data.tobytes()


def keep(session: Session, assessment_id: int, photos: Sequence[Kept]) -> list[VisitPhoto]:
    """Copy ``photos`` into a new folder of the assessment and add their rows to ``session``
    (not committed: the caller commits, and calls :func:`remove_folders` on the rows if the
    commit fails).

    :raises FpgradeError: a photo that cannot be copied (one line naming it); the folder is
        removed again.
    """
    target = new_folder(assessment_id)
    data_dir = get_settings().data_dir
    rows = []
    try:
        _private_folder(target)
        for p in photos:
            photo = overlay = None
            if p.source and p.kind == "image":
                source = Path(p.source)
                suffix = source.suffix.lower() if source.suffix else ".img"
                photo = target / f"{p.movement}{suffix}"
                try:
                    _write_private(photo, source.read_bytes())
                except OSError as exc:
                    raise FpgradeError(f"photo {p.name}: cannot be kept ({exc.strerror})") from exc
            if p.overlay is not None:
                overlay = target / f"{p.movement}.overlay.png"
                _write_private(overlay, _png(p.overlay))
            if photo is None and overlay is None:
                continue
            row = VisitPhoto(assessment_id=assessment_id, movement=p.movement, name=p.name[:255],
                             kind=p.kind,
                             photo=str(photo.relative_to(data_dir)) if photo else None,
                             overlay=str(overlay.relative_to(data_dir)) if overlay else None)
            session.add(row)
            rows.append(row)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return rows


def rows_of(session: Session, assessment_ids: Iterable[int]) -> list[VisitPhoto]:
    ids = list(assessment_ids)
    if not ids:
        return []
    return list(session.exec(select(VisitPhoto).where(VisitPhoto.assessment_id.in_(ids))
                             .order_by(VisitPhoto.assessment_id, VisitPhoto.id)).all())


def delete_rows(session: Session, assessment_ids: Iterable[int]) -> list[Path]:
    """Delete the photo rows of these assessments from ``session`` (not committed); returns
    the folders :func:`remove_folders` should remove after the commit."""
    folders = []
    for row in rows_of(session, list(assessment_ids)):
        place = folder_of(row)
        if place is not None and place not in folders:
            folders.append(place)
        session.delete(row)
    return folders


def remove_folders(folders: Iterable[Path]) -> list[Path]:
    """Remove these folders and every file in them; returns those that could not be removed."""
    left = []
    for target in folders:
        shutil.rmtree(target, ignore_errors=True)
        if target.exists():
            left.append(target)
    return left


def image(relative: str | None) -> np.ndarray | None:
    """A kept picture as an RGB array (``None`` when missing or unreadable)."""
    path = absolute(relative)
    if path is None or not path.is_file():
        return None
    import cv2

    data = np.fromfile(path, dtype=np.uint8)
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    return None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
