"""Shared fixtures: isolated settings and database, temporary plugins, real media files."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from fpgrade import registry as registry_module
from fpgrade import settings as settings_module
from fpgrade.storage import database

SHARED_FACES = Path(__file__).resolve().parent / "media" / "faces"


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory, monkeypatch) -> Iterator[Path]:
    """Every test gets its own data folder and database; nothing leaks into the user's."""
    data_dir = tmp_path_factory.mktemp("fpgrade-data")
    monkeypatch.setenv("FPGRADE_DATA_DIR", str(data_dir))
    monkeypatch.delenv("FPGRADE_DATABASE_URL", raising=False)
    monkeypatch.delenv("FPGRADE_DISABLE_PLUGINS", raising=False)
    _clear_caches()
    yield data_dir
    _clear_caches()


def _clear_caches() -> None:
    settings_module.get_settings.cache_clear()
    registry_module.get_registry.cache_clear()
    database.get_engine.cache_clear()


@pytest.fixture
def registry():
    return registry_module.get_registry()


@pytest.fixture
def shared_faces() -> Path:
    """``tests/media/faces``: real photos and videos (skipped with a reason when absent)."""
    if not SHARED_FACES.is_dir():
        pytest.skip(f"real test media not found at {SHARED_FACES}")
    return SHARED_FACES


@pytest.fixture
def install_plugin(tmp_path, monkeypatch) -> Callable[..., None]:
    """Install a throw-away plugin distribution: a module plus a real ``*.dist-info`` with an
    ``entry_points.txt`` on ``sys.path``, found by importlib.metadata like any installed package.
    """
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    added_modules: list[str] = []

    def install(name: str, source: str, *, module: str | None = None, version: str = "1.0") -> None:
        module = module or f"fpgrade_test_{name}"
        (site / f"{module}.py").write_text(textwrap.dedent(source))
        dist = site / f"fpgrade_test_{name}-{version}.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: fpgrade-test-{name}\nVersion: {version}\n"
        )
        (dist / "entry_points.txt").write_text(f"[fpgrade]\n{name} = {module}\n")
        added_modules.append(module)
        _clear_caches()

    yield install
    for module in added_modules:
        sys.modules.pop(module, None)
    _clear_caches()


@pytest.fixture
def fpgrade_entry_points():
    """The entry points of the ``fpgrade`` group as installed (built-ins and any test plugins)."""
    return lambda: entry_points(group="fpgrade")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server for the session (skipped with a reason when not installed)."""
    from tests.postgres_server import find_bin, postgres_server

    if find_bin("initdb") is None:
        pytest.skip("PostgreSQL server binaries are not installed (apt-get install postgresql)")
    import shutil
    import tempfile

    # Not under pytest's tmp folder: its parents are private to root, and the server runs as nobody.
    workdir = Path(tempfile.mkdtemp(prefix="fpgrade-postgres-"))
    try:
        with postgres_server(workdir) as url:
            yield url
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def astronaut_landmarks():
    """Real MediaPipe landmarks of scikit-image's portrait (computed once per session)."""
    from fpgrade.face.analysis import landmarks_of
    from tests.media_factory import astronaut

    return landmarks_of(astronaut(), source="astronaut")


@pytest.fixture(scope="module")
def module_data_dir(tmp_path_factory):
    """One data folder (database and landmark cache) for a whole test module: the synthetic
    faces are analysed once per module."""
    data_dir = tmp_path_factory.mktemp("module-data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FPGRADE_DATA_DIR", str(data_dir))
        _clear_caches()
        yield data_dir
    _clear_caches()


@pytest.fixture
def sided7_in_module_data(synthetic_sided7, module_data_dir, monkeypatch):
    """:func:`synthetic_sided7` with ``FPGRADE_DATA_DIR`` at the module's data folder."""
    monkeypatch.setenv("FPGRADE_DATA_DIR", str(module_data_dir))
    _clear_caches()
    return synthetic_sided7


@pytest.fixture(scope="session")
def synthetic_sided7(tmp_path_factory):
    """A small SYNTHETIC sided7 data set (10 subjects, each a different real person), written once.

    The 10 identities: scikit-image's astronaut and faces of ``tests/media/faces``: the five of
    multi_face.jpg, three single-face photos and one video (single_face.mp4 and face_noface.mov
    are left out: they show the man of single_face.jpg). Without the shared media there is one
    person, too few for any subject-grouped split: the tests that need it are skipped.
    """
    from fpgrade.registry import load_registry
    from fpgrade.synth import identities_in_photo, make_synthetic, source_identities
    from tests.media_factory import astronaut

    if not SHARED_FACES.is_dir():
        pytest.skip(f"a synthetic data set of several people needs the real faces of {SHARED_FACES}")
    out = tmp_path_factory.mktemp("synthetic-sided7")
    identities = identities_in_photo("astronaut", astronaut())
    identities += source_identities(SHARED_FACES / name for name in (
        "single_face.jpg", "0-f1-su-ph.jpg", "Image_with_alpha.png", "multi_face.jpg",
        "WolfgangLanger_Pexels.mp4"))
    scale = load_registry(disabled=()).scale("sided7")
    return make_synthetic(out, scale, 10, identities, images_per_subject=1, seed=1, videos=True,
                          video_frames=8)


@pytest.fixture
def fresh_postgres_database(postgres_url):
    """A new, empty database on the test server (dropped afterwards)."""
    import uuid

    from sqlalchemy import create_engine

    server = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    name = f"fpgrade_{uuid.uuid4().hex[:12]}"
    with server.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    yield url
    create_engine(url).dispose()
    with server.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    server.dispose()


@pytest.fixture(scope="session")
def labelstudio(tmp_path_factory):
    """A real Label Studio server for the session (skipped with a reason when its venv is missing).

    Yields :class:`tests.labelstudio_server.LabelStudioServer` (``url``, ``token``, ``files_root``:
    the folder whose files it serves as local files). Tests create their own projects.
    """
    from tests.labelstudio_server import EXECUTABLE, labelstudio_server

    if not EXECUTABLE.is_file():
        pytest.skip(f"Label Studio is not installed in {EXECUTABLE.parents[1]} (make labelstudio)")
    workdir = tmp_path_factory.mktemp("labelstudio")
    files_root = tmp_path_factory.mktemp("labelstudio-files")
    with labelstudio_server(workdir, files_root) as server:
        yield server


@pytest.fixture
def ls_env(labelstudio, monkeypatch):
    """The session's Label Studio server, configured for this test (``FPGRADE_LABEL_STUDIO_*``)."""
    from fpgrade.settings import get_settings

    monkeypatch.setenv("FPGRADE_LABEL_STUDIO_URL", labelstudio.url)
    monkeypatch.setenv("FPGRADE_LABEL_STUDIO_TOKEN", labelstudio.token)
    monkeypatch.setenv("FPGRADE_LABEL_STUDIO_FILES_ROOT", str(labelstudio.files_root))
    get_settings.cache_clear()
    return labelstudio
