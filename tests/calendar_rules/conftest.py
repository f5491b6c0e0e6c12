"""Most calendar_rules tests are pure (no Django). The few that need Django (management
commands, the /rules/ page, the app config) live in the modules below and are only collected
when pytest-django is active, so ``pytest tests/calendar_rules -p no:django`` runs the rest."""

DJANGO_MODULES = {"test_commands.py", "test_views.py", "test_apps.py"}


def pytest_ignore_collect(collection_path, config):
    if collection_path.name in DJANGO_MODULES and not config.pluginmanager.hasplugin("django"):
        return True
    return None
