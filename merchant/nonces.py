"""Spent nonces as the shop side records them: a redemption holds its token's nonce.

The rule (a payment token or code can be used once, else ``token_used``) is wallet's
(:func:`wallet.payments.nonce_used`); merchant owns the ``redemptions`` table, so it answers
the look-up and registers it with wallet when the package is imported.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from merchant.models import Redemption


def spent(session: Session, nonce_hex: str) -> bool:
    """Return True when a redemption already holds this nonce."""
    found = session.execute(
        select(Redemption.id).where(Redemption.nonce == nonce_hex).limit(1)
    ).first()
    return found is not None
