"""Two fewer indexes on the case history, one fewer on transactions: less to write per event.

- ``disputes_caseevent_dispute_id_…`` indexed what ``uniq_case_event_seq`` (dispute, seq)
  already leads with.
- ``case_event_kind_idx`` (kind, created_at) held every event (5 million at a million
  disputes) for one lookup: the missed-deadlines report, which reads ``deadline_missed`` events
  by time. ``case_event_missed_idx`` holds just those.
- The account fingerprint is only ever compared whole; ``db_index`` had also made a
  ``varchar_pattern_ops`` index for LIKE. ``txn_fingerprint_idx`` is the plain one.

At a million disputes the three took 14 s of the seeder's index rebuild, and every event
written updated five indexes instead of three.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('disputes', '0023_dispute_autovacuum'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='caseevent',
            name='case_event_kind_idx',
        ),
        migrations.AlterField(
            model_name='caseevent',
            name='dispute',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='events', to='disputes.dispute'),
        ),
        migrations.AlterField(
            model_name='transaction',
            name='account_fingerprint',
            field=models.CharField(blank=True, help_text='Keyed hash of the full card or account number, to find related disputes', max_length=64),
        ),
        migrations.AddIndex(
            model_name='caseevent',
            index=models.Index(condition=models.Q(('kind', 'deadline_missed')), fields=['created_at'], name='case_event_missed_idx'),
        ),
        migrations.AddIndex(
            model_name='transaction',
            index=models.Index(fields=['account_fingerprint'], name='txn_fingerprint_idx'),
        ),
    ]
