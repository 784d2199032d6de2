"""The audit log and the names it shows."""
