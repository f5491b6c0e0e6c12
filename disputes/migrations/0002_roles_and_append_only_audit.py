"""Role groups from disputes/roles.py, and a PostgreSQL trigger that refuses UPDATE and DELETE on
the audit table (the application refuses them too; this covers raw SQL and other clients)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION disputes_transition_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'disputes_disputetransition is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER disputes_transition_append_only
    BEFORE UPDATE OR DELETE ON disputes_disputetransition
    FOR EACH ROW EXECUTE FUNCTION disputes_transition_append_only();
"""
DROP_SQL = """
DROP TRIGGER IF EXISTS disputes_transition_append_only ON disputes_disputetransition;
DROP FUNCTION IF EXISTS disputes_transition_append_only();
"""


def create_roles(apps, schema_editor):
    from disputes.roles import apply_roles

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    apply_roles(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def remove_roles(apps, schema_editor):
    from disputes.roles import ROLE_PERMISSIONS

    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLE_PERMISSIONS)).delete()


def add_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("disputes", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_roles, remove_roles),
        migrations.RunPython(add_trigger, drop_trigger),
    ]
