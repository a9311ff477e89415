"""Reminder emails: due-time maths, dispatch and delivery."""
