"""Notifications: e-mail and printed reminders to households, staff notices."""
