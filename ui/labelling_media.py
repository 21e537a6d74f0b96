"""What a rater's browser is sent of a medium (issue 20): a photo as an upright JPEG copy under
a neutral name without its metadata, a video as a copy under a neutral name, a visit's movements
side by side as one JPEG, and a photo cropped to its face. The pages' handlers
(:mod:`fpgrade_ui.labelling_handlers`) decide who may see what; this module only makes the
pictures."""

from __future__ import annotations

import atexit
import os
import queue
import shutil
import tempfile
import threading
from pathlib import Path

from fpgrade.labelling.model import LabellingError


#: the long side, in pixels, of the copy of a photo a rater is shown: 2x the 1366-px view, so
#: that a zoom on an eye keeps its detail
SHOWN_LONG_SIDE = 2560
#: JPEG quality of that copy (visually lossless for grading; the stored photo is not touched)
SHOWN_QUALITY = 92


def _neutral_folder(workdir: str | None) -> Path:
    if workdir:
        Path(workdir).mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="fpgrade-label-",
                                 dir=workdir or os.environ.get("GRADIO_TEMP_DIR")))


def _shown_cache(workdir: str | None) -> Path:
    """The folder of the shown copies: one per server process (in the temporary folder, which
    Gradio may serve from; mode 0700), or under ``workdir`` where one is given."""
    global _CACHE
    if workdir:
        folder = Path(workdir) / "shown"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    with _CACHE_LOCK:
        if _CACHE is None or not _CACHE.is_dir():
            _CACHE = Path(tempfile.mkdtemp(prefix="fpgrade-shown-",
                                           dir=os.environ.get("GRADIO_TEMP_DIR")))
            atexit.register(shutil.rmtree, _CACHE, True)
        return _CACHE


_CACHE: Path | None = None
_CACHE_LOCK = threading.Lock()


def _cache_key(path: Path) -> str:
    """The shown copy's name: the photo's absolute path, modification time and size, and the
    copy's size and quality, hashed (a changed photo gets a new copy; the name says nothing)."""
    import hashlib

    found = path.stat()
    text = f"{path.absolute()}|{found.st_mtime_ns}|{found.st_size}|{SHOWN_LONG_SIDE}|{SHOWN_QUALITY}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _shown_photo(path: Path, workdir: str | None) -> str:
    """The copy of a photo a rater's browser gets: a JPEG named ``medium.jpg`` (a neutral name),
    upright (EXIF orientation applied), without the file's metadata (EXIF, XMP, the JPEG comment;
    its colour profile kept), its long side at most :data:`SHOWN_LONG_SIDE`.

    Made once per photo and server (:func:`_shown_cache`, keyed by :func:`_cache_key`): the
    second pass, the adjudication and a photo made ahead (:func:`make_ahead`) cost a ``stat``.
    Decoding the photo into an array and letting Gradio encode it as WebP cost 217 ms of server
    CPU per 1-megapixel photo (3 s for 12 MP) on every submit; the copy costs 25 ms for a 1 MP
    JPEG (a JPEG is decoded at the reduced size with PIL's ``draft``). Written to a temporary
    name and renamed, so that two raters opening the same photo never see half a file."""
    folder = _shown_cache(workdir) / _cache_key(path)
    copy = folder / "medium.jpg"
    if copy.is_file():
        return str(copy)
    from PIL import Image, ImageOps

    with Image.open(path) as image:
        if image.format == "JPEG":
            image.draft("RGB", (SHOWN_LONG_SIDE, SHOWN_LONG_SIDE))
        picture = ImageOps.exif_transpose(image).convert("RGB")
    picture.thumbnail((SHOWN_LONG_SIDE, SHOWN_LONG_SIDE))
    # only the colour profile is kept: Pillow carries a JPEG's comment (COM: a clinic may
    # write the patient's name there), EXIF and XMP in ``info`` into the saved copy
    icc = picture.info.get("icc_profile")
    picture.info.clear()
    folder.mkdir(exist_ok=True)
    partial = folder / f".medium-{threading.get_ident()}-{os.getpid()}.jpg"
    picture.save(partial, "JPEG", quality=SHOWN_QUALITY, **({"icc_profile": icc} if icc else {}))
    os.replace(partial, copy)
    return str(copy)


def make_ahead(paths, workdir: str | None = None) -> threading.Event:
    """Make the shown copies of photos a rater is about to be sent, in the background: one
    worker thread for the server, at the lowest CPU priority (Linux: per thread), never before
    a rater's request; a photo that cannot be read is left for the view to report. Returns an
    event set once these photos are done (the worker takes requests in turn, so a burst of
    raters queues work, not threads)."""
    global _AHEAD_WORKER
    done = threading.Event()
    with _AHEAD_LOCK:
        if _AHEAD_WORKER is None or not _AHEAD_WORKER.is_alive():
            _AHEAD_WORKER = threading.Thread(target=_make_ahead_forever,
                                             name="fpgrade-shown-ahead", daemon=True)
            _AHEAD_WORKER.start()
    _AHEAD.put(([Path(p) for p in paths], workdir, done))
    return done


def _make_ahead_forever() -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):
        pass
    while True:
        paths, workdir, done = _AHEAD.get()
        for path in paths:
            try:
                _shown_photo(path, workdir)
            except Exception:  # noqa: BLE001 - the view says what is wrong when it opens it
                continue
        done.set()


_AHEAD: queue.SimpleQueue = queue.SimpleQueue()
_AHEAD_LOCK = threading.Lock()
_AHEAD_WORKER: threading.Thread | None = None


def shown_copy(rgb, workdir: str | None) -> str:
    """An RGB array (a visit's movements side by side, :mod:`.labelling_visit`) as the JPEG
    the browser gets, under a neutral name, like :func:`_shown_photo`'s copy of a photo."""
    from PIL import Image

    copy = _neutral_folder(workdir) / "visit.jpg"
    Image.fromarray(rgb).save(copy, "JPEG", quality=SHOWN_QUALITY)
    return str(copy)


def _media(path: Path, kind: str, workdir: str | None) -> tuple[str | None, str | None]:
    """(the photo's shown copy, None) or (None, the video's copy), both under a neutral name
    (the file name may say too much)."""
    if kind == "video":
        copy = _neutral_folder(workdir) / f"medium{path.suffix.lower()}"
        shutil.copyfile(path, copy)
        return None, str(copy)
    try:
        return _shown_photo(path, workdir), None
    except OSError as exc:
        raise LabellingError(f"the photo cannot be read ({type(exc).__name__}): mark it "
                             "'cannot grade', bad photo") from None


#: the face box is widened by this share of its size on each side (forehead, chin, ears)
FACE_MARGIN = 0.35
_DETECT_LOCK = threading.Lock()


def crop_face(rgb) -> object | None:
    """``rgb`` cropped to its largest face widened by :data:`FACE_MARGIN` (fpgrade's face
    detection, under a lock); ``None`` where no face is found."""
    import numpy as np

    from fpgrade.face.detect import default_analyser

    rgb = np.ascontiguousarray(rgb)
    with _DETECT_LOCK:
        boxes = default_analyser().detect(rgb)
    if not boxes:
        return None
    box = boxes[0]
    height, width = rgb.shape[:2]
    mx, my = FACE_MARGIN * box.width, FACE_MARGIN * box.height
    x0, y0 = max(0, int(box.x - mx)), max(0, int(box.y - my))
    x1 = min(width, int(box.x + box.width + mx))
    y1 = min(height, int(box.y + box.height + my))
    return rgb[y0:y1, x0:x1].copy()
