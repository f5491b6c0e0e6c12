"""Deadline reminders, evidence chasers and the weekly digest: decided by sweeps over state,
recorded once in ``Notification`` (unique per threshold or per week), delivered after commit."""
