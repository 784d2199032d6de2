"""Bank files for the tests; they are made in :mod:`kindpakket.seeding.bankfiles`."""

from kindpakket.seeding.bankfiles import DEFAULT_IBAN, Ntry, Tx, TxStatus, statement, status_report

__all__ = ["DEFAULT_IBAN", "Ntry", "Tx", "TxStatus", "statement", "status_report"]
