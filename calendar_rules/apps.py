from django.apps import AppConfig


class CalendarRulesConfig(AppConfig):
    name = "calendar_rules"
    verbose_name = "Calendar rules"

    def ready(self):
        # Load and validate the rule tables at start-up: a malformed table raises
        # RuleTableError (naming the file and the key) before any request is served.
        from . import deadlines, rules

        rules.tables()
        deadlines.engine()
        from .rules import evidence

        evidence.evidence_table()
