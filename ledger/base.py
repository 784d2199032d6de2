"""The one declarative base every package's models share, and its aware-UTC time column.

It lives at the bottom of the dependency stack (the ledger) so that every package can
import it without importing upwards.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Dialect, MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Typed SQLAlchemy 2 base with stable constraint names for migrations."""

    metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator[datetime]):
    """A moment stored in UTC and always read back as an aware UTC datetime.

    Same DDL as ``DateTime(timezone=True)`` (so no migration): ``TIMESTAMPTZ`` on
    PostgreSQL, text on SQLite. SQLite keeps no offset and PostgreSQL answers in the
    session's zone, so values are converted to UTC on the way in and labelled UTC (SQLite)
    or converted to UTC (PostgreSQL) on the way out. A naive value written is taken as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return the value in UTC (a naive value is taken to be UTC already)."""
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return the stored moment as an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite: stored in UTC without an offset
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @property
    def python_type(self) -> type[datetime]:
        """Return ``datetime``."""
        return datetime
