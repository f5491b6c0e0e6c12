"""The case history replaces the audit trail of transitions and the notes table.

Every existing transition and note becomes an event of its dispute, in time order, linked in a
keyed hash chain (the HMAC key comes from the environment: AUDIT_HMAC_KEY); the last event of
each dispute carries the dispute as it is now, so ``verify_audit_chain`` passes before and after.
PostgreSQL then refuses UPDATE, DELETE and TRUNCATE on the new table.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION disputes_case_event_append_only() RETURNS trigger AS $$
BEGIN
    -- A superuser may already switch triggers off; letting one empty the table on purpose
    -- (the test suite's flush) gives no role a power it did not have. Any other role: never.
    IF TG_OP = 'TRUNCATE'
       AND current_setting('astra.history_maintenance', true) = 'on'
       AND (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'disputes_caseevent is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER disputes_case_event_append_only
    BEFORE UPDATE OR DELETE ON disputes_caseevent
    FOR EACH ROW EXECUTE FUNCTION disputes_case_event_append_only();
CREATE TRIGGER disputes_case_event_no_truncate
    BEFORE TRUNCATE ON disputes_caseevent
    FOR EACH STATEMENT EXECUTE FUNCTION disputes_case_event_append_only();
DROP FUNCTION IF EXISTS disputes_transition_append_only() CASCADE;
"""
DROP_SQL = """
DROP TRIGGER IF EXISTS disputes_case_event_append_only ON disputes_caseevent;
DROP TRIGGER IF EXISTS disputes_case_event_no_truncate ON disputes_caseevent;
DROP FUNCTION IF EXISTS disputes_case_event_append_only();
"""
KINDS = {"open": "opened", "claim": "claimed", "assign": "assigned"}
SNAPSHOT = (
    "outcome", "assignee_id", "version", "network_due", "internal_due", "client_evidence_due",
    "deadline_rule",
)


def _transition_event(row, state):
    details = dict(row.details or {})
    payload = {
        "act": row.transition,
        "label": row.label,
        "from_stage": row.from_stage,
        "from_state": row.from_state,
        "comment": row.comment,
    }
    if "assignee" in details:
        state["assignee_id"] = details.pop("assignee")
        payload["assignee_name"] = details.pop("assignee_name", "")
    if details:
        payload["params"] = details
    if row.transition == "open":
        payload = {"params": details, "comment": row.comment}
    state.update(stage=row.to_stage, state=row.to_state, version=state["version"] + 1)
    return KINDS.get(row.transition, "transition"), row.actor_id, row.created_at, payload


def _events_of(dispute, transitions, notes):
    """The dispute's events in time order, each with the snapshot it left."""
    items = [(t.created_at, 0, t.seq, t) for t in transitions]
    items += [(n.created_at, 1, n.pk, n) for n in notes]
    items.sort(key=lambda item: item[:3])
    state = {"stage": "", "state": "", "version": 0, "assignee_id": None}
    events = []
    for _at, is_note, _order, item in items:
        if is_note:
            kind, actor, at, payload = "note_added", item.author_id, item.created_at, {"body": item.body}
        else:
            kind, actor, at, payload = _transition_event(item, state)
        closed = state["stage"] == "closed"
        events.append({
            "dispute_id": dispute.pk, "seq": len(events) + 1, "kind": kind, "actor_id": actor,
            "system_actor": "" if actor else "Astra Ops", "created_at": at, "payload": payload,
            "stage": state["stage"], "state": state["state"],
            "outcome": dispute.outcome if closed else "", "assignee_id": state["assignee_id"],
            "version": max(1, state["version"]), "network_due": None, "internal_due": None,
            "client_evidence_due": None, "deadline_rule": "",
        })
    if events:
        events[-1].update({name: getattr(dispute, name) for name in SNAPSHOT})
        events[-1].update(stage=dispute.stage, state=dispute.state)
    return events


def copy_history(apps, schema_editor):
    from disputes.history import chain

    Dispute = apps.get_model("disputes", "Dispute")
    Transition = apps.get_model("disputes", "DisputeTransition")
    Note = apps.get_model("disputes", "Note")
    CaseEvent = apps.get_model("disputes", "CaseEvent")
    ids = list(Dispute.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), 2000):
        chunk = ids[start : start + 2000]
        transitions, notes = {}, {}
        for row in Transition.objects.filter(dispute_id__in=chunk).order_by("dispute_id", "seq"):
            transitions.setdefault(row.dispute_id, []).append(row)
        for note in Note.objects.filter(dispute_id__in=chunk).order_by("created_at", "pk"):
            notes.setdefault(note.dispute_id, []).append(note)
        rows = []
        for dispute in Dispute.objects.filter(pk__in=chunk).order_by("pk"):
            events = _events_of(dispute, transitions.get(dispute.pk, []), notes.get(dispute.pk, []))
            chain.link(events)
            rows.extend(CaseEvent(**event) for event in events)
        CaseEvent.objects.bulk_create(rows, batch_size=2000)


def drop_old_permissions(apps, schema_editor):
    """The notes and transitions tables are gone: so are their content types and permissions
    (adding a note is now a permission on the dispute, given to the same roles)."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="disputes", model__in=["note", "disputetransition"]).delete()


def add_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('disputes', '0003_queue_indexes'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='CaseEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('seq', models.PositiveIntegerField()),
                ('kind', models.CharField(max_length=48)),
                ('system_actor', models.CharField(blank=True, help_text='Which process acted, when the system did', max_length=64)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('payload', models.JSONField(blank=True, default=dict)),
                ('stage', models.CharField(max_length=32)),
                ('state', models.CharField(max_length=20)),
                ('outcome', models.CharField(blank=True, max_length=12)),
                ('assignee_id', models.BigIntegerField(blank=True, null=True)),
                ('version', models.PositiveIntegerField()),
                ('network_due', models.DateField(blank=True, null=True)),
                ('internal_due', models.DateField(blank=True, null=True)),
                ('client_evidence_due', models.DateField(blank=True, null=True)),
                ('deadline_rule', models.CharField(blank=True, max_length=64)),
                ('prev_hash', models.CharField(blank=True, max_length=64)),
                ('row_hash', models.CharField(max_length=64)),
                ('actor', models.ForeignKey(blank=True, help_text='Empty when the system acted', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('dispute', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='events', to='disputes.dispute')),
            ],
            options={
                'ordering': ['dispute', 'seq'],
            },
        ),
        migrations.RunPython(copy_history, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(
            model_name='note',
            name='author',
        ),
        migrations.RemoveField(
            model_name='note',
            name='dispute',
        ),
        migrations.DeleteModel(
            name='DisputeTransition',
        ),
        migrations.DeleteModel(
            name='Note',
        ),
        migrations.AddIndex(
            model_name='caseevent',
            index=models.Index(fields=['kind', 'created_at'], name='case_event_kind_idx'),
        ),
        migrations.AddConstraint(
            model_name='caseevent',
            constraint=models.UniqueConstraint(fields=('dispute', 'seq'), name='uniq_case_event_seq'),
        ),
            migrations.AlterModelOptions(
            name='dispute',
            options={'ordering': ['internal_due', 'id'], 'permissions': [('claim_dispute', 'Can claim a dispute'), ('assign_dispute', 'Can assign disputes to others'), ('work_dispute', 'Can take ops transitions on a dispute'), ('accept_liability', 'Can accept liability or record expiry'), ('request_evidence', 'Can request and receive evidence'), ('upload_evidence', 'Can upload evidence'), ('add_note', 'Can add a note to a dispute'), ('export_disputes', 'Can export disputes'), ('view_reports', 'Can view reports'), ('verify_audit', 'Can verify the audit trail')]},
        ),
        migrations.RunPython(drop_old_permissions, migrations.RunPython.noop),
        migrations.RunPython(add_trigger, drop_trigger),
    ]
