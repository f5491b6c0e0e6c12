"""Missed deadlines: when one of our own windows (a NACHA dishonor window, a Visa dispute
response, a Mastercard second presentment …) passes with no filing, the system records it once,
as a ``deadline_missed`` event in the dispute's case history and a row here, so it never
silently disappears when the stage later moves on.

``services.record_missed_deadlines`` is the sweep (hourly on beat, and ``python manage.py
record_missed_deadlines``); ``selectors`` say it in words for the dispute page and the queue.
"""
