"""The one declarative base every package's models share.

It lives at the bottom of the dependency stack (the ledger) so that every package can
import it without importing upwards.
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

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
