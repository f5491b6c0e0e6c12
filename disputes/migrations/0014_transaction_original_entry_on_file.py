from django.db import migrations, models

# Transactions a NACHA return file made before this field existed say so in their description.
NOT_ON_FILE = "(original entry not on file)"


def mark_returns_without_original(apps, schema_editor):
    Transaction = apps.get_model("disputes", "Transaction")
    Transaction.objects.filter(rail="ach", description__endswith=NOT_ON_FILE).update(
        original_entry_on_file=False
    )


class Migration(migrations.Migration):
    dependencies = [
        ("disputes", "0013_reports"),
    ]

    operations = [
        migrations.AddField(
            model_name="transaction",
            name="original_entry_on_file",
            field=models.BooleanField(
                default=True,
                db_default=True,
                help_text=(
                    "False for an ACH entry known only from its return: its dates are then the "
                    "return's, not the original entry's, and say nothing about timeliness"
                ),
            ),
        ),
        migrations.RunPython(mark_returns_without_original, migrations.RunPython.noop),
    ]
