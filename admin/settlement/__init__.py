"""Paying shops: settlement batches, SEPA files, bank statements, reconciling."""
