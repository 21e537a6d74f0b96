"""Alembic migrations of fpgrade's schema (script_location of :func:`alembic_config`)."""
