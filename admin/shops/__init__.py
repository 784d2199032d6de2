"""Shops: applications, approval, blocking."""
