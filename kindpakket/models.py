"""Every package's tables on the one shared metadata (used by Alembic and tests).

The factory side of the shell may import actor packages; platform modules may not.
"""

from ledger import models as _ledger  # noqa: F401
from ledger.base import Base
from kindpakket import audit as _audit  # noqa: F401

for _pkg in ("wallet", "merchant", "admin"):
    try:
        __import__(f"{_pkg}.models")
    except ModuleNotFoundError as exc:  # a package without tables yet
        if exc.name != f"{_pkg}.models":
            raise

metadata = Base.metadata
