"""Alembic environment: runs on a connection handed in by kindpakket.migrate, or a URL."""

from alembic import context
from sqlalchemy import create_engine

from kindpakket.models import metadata

config = context.config


def run() -> None:
    """Run migrations online (we never generate offline SQL)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_with(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        _run_with(conn)


def _run_with(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
