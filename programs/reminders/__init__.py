"""Reminder emails: due-time maths, dispatch and delivery (rules: docs/messages.md)."""
