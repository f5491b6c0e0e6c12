"""Autovacuum on the dispute table after a few thousand changed rows, not a fifth of the table.

The queue's views and counts read the dispute indexes alone (index-only scans), which holds
only for pages the visibility map marks all-visible; every update clears its page's mark until
a vacuum sets it again. PostgreSQL's default waits for 20 % of the rows to change (200,000 at a
million disputes): after ~29,000 updates the queue's pages went from 55 ms to 140 ms of server
time until a vacuum. Vacuuming after about 2,000 + 0.2 % of the rows changed or were added keeps
them set; a vacuum reads only the pages changed since the last one.
"""

from django.db import migrations

SETTINGS = {
    "autovacuum_vacuum_threshold": 2000,
    "autovacuum_vacuum_scale_factor": 0.002,
    "autovacuum_vacuum_insert_threshold": 2000,
    "autovacuum_vacuum_insert_scale_factor": 0.002,
    "autovacuum_analyze_threshold": 5000,
    "autovacuum_analyze_scale_factor": 0.02,
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    values = ", ".join(f"{name} = {value}" for name, value in SETTINGS.items())
    schema_editor.execute(f"ALTER TABLE disputes_dispute SET ({values})")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE disputes_dispute RESET ({', '.join(SETTINGS)})")


class Migration(migrations.Migration):
    dependencies = [("disputes", "0022_closed_stage_state_by_id")]

    operations = [migrations.RunPython(forwards, backwards)]
