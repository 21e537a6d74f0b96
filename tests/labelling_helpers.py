"""Helpers of the labelling tests: media rows without files, users, a blind phase."""

from __future__ import annotations

import pytest

from fpgrade.labelling.users import add_user
from fpgrade.storage import database
from tests.media_rows import add_medium

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def fast_password_hashes(monkeypatch):
    """Argon2id with small costs in tests (the real parameters take about a second here, per
    user); imported by each labelling test module, where it applies to every test."""
    from argon2 import PasswordHasher

    monkeypatch.setattr("fpgrade.labelling.users._hasher",
                        lambda: PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def add_media(count: int, *, movement: str = "MV0", synthetic: bool = False,
              prefix: str = "P", url: str | None = None) -> list[int]:
    """``count`` media rows (one subject each, no file on disk); returns their ids."""
    ids = []
    with database.session(url) as session:
        for index in range(count):
            ids.append(add_medium(session, f"{prefix}{index:03d}",
                                  f"/data/{prefix}{index:03d}_{movement}.jpg",
                                  f"{prefix}{index:03d}{movement}".ljust(64, "0")[:64],
                                  movement=movement, synthetic=synthetic).id)
        session.commit()
    return ids


def users(url: str | None = None, **roles: str):
    """name=role -> the created users, by name."""
    with database.session(url) as session:
        return {name: add_user(session, name, PASSWORD, role) for name, role in roles.items()}
