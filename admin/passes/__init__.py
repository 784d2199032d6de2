"""Printed passes for families without a smartphone: orders, printing, QR."""
