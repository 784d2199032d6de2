"""The schema comes from migrations only, and the migrations match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from kindpakket.migrate import HERE, current
from kindpakket.models import metadata


def test_migrated_database_matches_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_database_is_at_the_single_head(engine: Engine) -> None:
    from alembic.script import ScriptDirectory

    from kindpakket.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    assert len(script.get_heads()) == 1, "migrations have forked: chain them"
    assert current(engine) == set(script.get_heads())
    assert HERE.is_dir()
