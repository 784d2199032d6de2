"""Every package's tables on the one shared metadata (used by Alembic and tests).

The factory side of the shell may import actor packages; platform modules may not.
"""

from admin import models as _admin  # noqa: F401
from kindpakket import audit as _audit  # noqa: F401
from kindpakket import hold as _hold  # noqa: F401
from kindpakket import outbox as _outbox  # noqa: F401
from ledger import models as _ledger  # noqa: F401
from ledger.base import Base
from merchant import models as _merchant  # noqa: F401
from wallet import contact as _contact  # noqa: F401
from wallet import models as _wallet  # noqa: F401
from wallet import passmodels as _passes  # noqa: F401

metadata = Base.metadata
