"""manage.py compute_deadline: one deadline from the rule tables, explained."""

import argparse
import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from calendar_rules import deadlines, rules


def iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date YYYY-MM-DD") from None


class Command(BaseCommand):
    requires_system_checks = []  # started often (cron, beat): checks run at deploy and migrate
    help = (
        "Compute a network deadline. The first line of output is the network deadline "
        "(YYYY-MM-DD), then the internal deadline, the explanation and the rule; with --json, "
        "one JSON object instead. Exits non-zero when the code is unknown, the stage does not "
        "apply to it, or the code or rule is not in force on the date."
    )

    def add_arguments(self, parser):
        parser.add_argument("--network", required=True, choices=rules.NETWORKS)
        parser.add_argument("--code", required=True, help="reason code, e.g. 13.1, 4853, R10")
        parser.add_argument("--stage", required=True, help="e.g. dispute_response, return")
        parser.add_argument(
            "--from",
            dest="anchor",
            required=True,
            type=iso_date,
            metavar="YYYY-MM-DD",
            help="the anchor date the stage's clock starts from",
        )
        parser.add_argument(
            "--alt-date",
            dest="alt_date",
            type=iso_date,
            metavar="YYYY-MM-DD",
            help="alternative anchor (expected receipt or delivery date) where the rule has one",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        try:
            deadline = deadlines.compute(
                network=options["network"],
                code=options["code"],
                stage=options["stage"],
                anchor=options["anchor"],
                alt_date=options["alt_date"],
            )
        except ValueError as exc:  # RuleLookupError and CalendarRangeError are ValueErrors
            raise CommandError(f"{type(exc).__name__}: {exc}") from exc
        table = rules.network_table(deadline.network)
        if options["json"]:
            payload = deadline.as_dict()
            payload["sources"] = {key: table.sources[key] for key in deadline.source_keys}
            payload["note"] = deadline.note
            self.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False))
            return
        lines = [
            deadline.network_due.isoformat(),
            f"internal: {deadline.internal_due.isoformat()}",
        ]
        if deadline.earliest_filing_date:
            lines.append(f"earliest filing: {deadline.earliest_filing_date.isoformat()}")
        lines += [
            deadline.explanation,
            f"rule: {deadline.rule_key} ({deadline.confidence}; "
            f"sources: {', '.join(deadline.source_keys) or 'none'}; "
            f"rules version {deadline.rules_version})",
        ]
        if deadline.note:
            lines.append(f"note: {deadline.note}")
        self.stdout.write("\n".join(lines))
