"""Errors of the ledger as values with fixed codes."""

from __future__ import annotations


class LedgerError(Exception):
    """A refused ledger operation; ``code`` is stable, ``message`` is for people."""

    code = "ledger_error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidEntry(LedgerError):
    """The entry itself is malformed (fewer than two postings, not balanced, ...)."""

    code = "invalid_entry"


class UnknownAccount(LedgerError):
    """A posting names an account that was never opened."""

    code = "unknown_account"


class InsufficientBalance(LedgerError):
    """The entry would take a never-below-zero account below zero."""

    code = "insufficient_balance"

    def __init__(self, account: str, balance: int, change: int) -> None:
        super().__init__(
            f"account {account} holds {balance} cents, cannot apply {change}",
            account=account,
            balance=balance,
            change=change,
        )
        self.account = account
        self.balance = balance
        self.change = change


class IdempotencyConflict(LedgerError):
    """The idempotency key was used before for an entry with different content."""

    code = "idempotency_conflict"
