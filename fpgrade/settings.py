"""Settings, read once from ``FPGRADE_*`` environment variables (pydantic-settings) and passed down.

A variable that does not hold what its field expects is one line naming the variable, the value
and what is expected (:class:`~fpgrade.errors.ConfigurationError`), never pydantic's report.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from platformdirs import user_data_path
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as _PydanticSettingsError

from fpgrade.errors import ConfigurationError

ENV_PREFIX = "FPGRADE_"
#: what each field expects, in words, for the one-line error (else pydantic's own message)
EXPECTED = {
    "data_dir": "a folder (created if missing), not a file",
    "max_image_pixels": "a whole number above 0, e.g. 50000000",
    "mirror_averaged_landmarks": "true or false (also 1/0, yes/no, on/off)",
    "cache_enabled": "true or false (also 1/0, yes/no, on/off)",
    "backbone_weights": 'a JSON object of backbone and weight file, e.g. '
                        '{"vgg16": "/weights/vgg16.safetensors"}',
    "label_studio_files_root": "a folder",
}


class Settings(BaseSettings):
    """fpgrade's configuration. Every field can be set as ``FPGRADE_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    data_dir: Path = Field(
        default_factory=lambda: user_data_path("fpgrade", appauthor=False),
        description="Where the default SQLite database, caches and runs live.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of SQLite or PostgreSQL, e.g. "
        "postgresql+psycopg://user:pw@host/fpgrade or sqlite:////srv/fpgrade/fpgrade.db (its folder "
        "must exist). Default: SQLite file fpgrade.db in data_dir (its folder is created).",
    )
    disable_plugins: Annotated[frozenset[str], NoDecode] = Field(
        default=frozenset(),
        description="Comma-separated plugin (entry-point) names that are not loaded.",
    )

    max_image_pixels: int = Field(
        default=50_000_000,
        gt=0,
        description="Images with more pixels are refused before decoding (decompression bombs).",
    )
    mirror_averaged_landmarks: bool = Field(
        default=True,
        description="Fit the face mesh on the photo and its mirror and average (removes the "
        "landmark model's left/right bias; costs a second mesh pass).",
    )
    backbone_weights: dict[str, Path] = Field(
        default_factory=dict,
        description="Local pretrained weights per backbone, as JSON: "
        '{"vgg16": "/weights/vgg16.safetensors", "r3d_18": "/weights/r3d18_kinetics.pth"}; '
        "used when --backbone-weights is not given.",
    )
    cache_enabled: bool = Field(
        default=True, description="Keep preprocessing results (face detection...) on disk."
    )
    label_studio_url: str | None = Field(
        default=None, description="Label Studio server for `fpgrade sync` (http://host:8080)."
    )
    label_studio_token: str | None = Field(
        default=None, description="API token of the Label Studio user that fpgrade syncs as."
    )
    label_studio_files_root: Path | None = Field(
        default=None,
        description="LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT of the server: media under it are "
        "served to Label Studio as local files (the server must see the same folder).",
    )

    session_idle_minutes: float = Field(
        default=30.0, gt=0,
        description="A login session of the served pages ends after this many minutes without "
        "a request (the page's heartbeat counts: an open page stays logged in).",
    )
    trusted_proxies: str = Field(
        default="127.0.0.1",
        description="Addresses whose X-Forwarded-For the served pages believe (the TLS proxy in "
        "front of them); empty: none. Clear it where users reach the server through SSH "
        "tunnels (they connect from 127.0.0.1 and could claim any address).",
    )
    secure_cookies: bool = Field(
        default=False,
        description="Mark the session cookie Secure (sent over HTTPS only): set it when the pages "
        "are served behind a TLS reverse proxy.",
    )

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @field_validator("data_dir")
    @classmethod
    def _a_folder(cls, value: Path) -> Path:
        if value.exists() and not value.is_dir():
            raise ValueError("it is a file, not a folder")
        return value

    @field_validator("disable_plugins", mode="before")
    @classmethod
    def _split_names(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(name.strip() for name in value.split(",") if name.strip())
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'fpgrade.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests clear this cache after changing the environment).

    :raises ConfigurationError: a variable that does not hold what is expected (the first one).
    """
    try:
        return Settings()
    except ValidationError as exc:
        errors = exc.errors()
        field = str(errors[0]["loc"][0]) if errors[0]["loc"] else ""
        detail = errors[0]["msg"].removeprefix("Value error, ")
        others = [ENV_PREFIX + str(e["loc"][0]).upper() for e in errors[1:] if e["loc"]]
        more = f"; not valid either: {', '.join(others)}" if others else ""
        raise ConfigurationError(_line(field, detail) + more) from None
    except _PydanticSettingsError as exc:  # a complex field (JSON) that does not parse
        match = re.search(r'field "(\w+)"', str(exc))
        field = match.group(1) if match else ""
        detail = f"not valid JSON ({exc.__cause__})" if exc.__cause__ else str(exc)
        raise ConfigurationError(_line(field, detail)) from None


def _line(field: str, detail: str) -> str:
    variable = ENV_PREFIX + field.upper()
    value = os.environ.get(variable)
    shown = f"{variable}={value!r}" if value is not None else variable
    expected = EXPECTED.get(field)
    detail = detail[:1].lower() + detail[1:]
    return f"{shown}: {detail}" + (f"; expected {expected}" if expected else "")
