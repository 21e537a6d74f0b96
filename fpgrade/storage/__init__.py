"""Storage on sqlmodel: SQLite in the user's data directory by default, PostgreSQL on request.

All tables are in :mod:`fpgrade.storage.tables`; the schema is created and changed only through the
alembic migrations in ``fpgrade/storage/migrations`` (:func:`fpgrade.storage.database.upgrade`).
"""
