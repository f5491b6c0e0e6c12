"""Confirming a rule row for Astra, or setting its window, and recomputing what it moves."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q

from calendar_rules import rules

from ..deadlines import recompute_open_deadlines
from .models import RuleConfirmation

MAX_WINDOW_DAYS = 999
SAMPLE_MOVES = 20


def rule_of(rule_key: str) -> rules.StageRule:
    """The stage rule a key names ("visa:13.1:dispute_response"); ValidationError if none."""
    network, _, rest = rule_key.partition(":")
    code, _, stage = rest.partition(":")
    try:
        rule = rules.stage_rule(network, code, stage)
    except rules.RuleLookupError as exc:
        raise ValidationError(f"No such rule: {exc}") from None
    if rule.rule_key != rule_key:
        raise ValidationError(f"{code} uses the rule of {rule.code}: confirm that one instead.")
    return rule


def confirm_rule(
    *,
    rule_key: str,
    actor,
    source_document: str,
    effective_from: date,
    days: int | None = None,
    comment: str = "",
) -> RuleConfirmation:
    """Record that ``actor`` (an ops lead) confirms the rule for Astra from ``effective_from``,
    with the window the table gives (``days`` None) or ``days`` instead, citing
    ``source_document``. Then recompute the open disputes on that rule and record what moved.

    Raises PermissionDenied for a role that may not confirm rules, ValidationError for an
    unknown rule, a missing document or a window out of range."""
    if not actor.has_perm("disputes.confirm_rules"):
        raise PermissionDenied("Only an ops lead may confirm a rule.")
    rule = rule_of(rule_key)
    source_document = (source_document or "").strip()
    if not source_document:
        raise ValidationError("Name the document the rule comes from.")
    if days is not None and not 1 <= days <= MAX_WINDOW_DAYS:
        raise ValidationError(f"A window is 1 to {MAX_WINDOW_DAYS} days.")
    if days is None and rule.days is None:
        raise ValidationError("The table has no window for this rule: give the window in days.")
    with transaction.atomic():
        confirmation = RuleConfirmation.objects.create(
            rule_key=rule_key,
            days=days,
            table_days=rule.days,
            table_confidence=rule.confidence,
            rules_version=rules.rules_version(),
            source_document=source_document[:200],
            effective_from=effective_from,
            comment=comment.strip(),
            confirmed_by=actor,
        )
    _record_recompute(confirmation, rule)
    return confirmation


def _record_recompute(confirmation: RuleConfirmation, rule: rules.StageRule) -> None:
    """Recompute the open disputes this rule can govern and keep what moved on the row."""
    from ..models import Dispute

    report = recompute_open_deadlines(where=disputes_on(rule), workers=1)
    cases = dict(
        Dispute.objects.filter(pk__in=[s[0] for s in report.samples]).values_list("pk", "case_id")
    )
    confirmation.checked = report.checked
    confirmation.moved = report.moved
    confirmation.moves = [
        {
            "dispute": pk,
            "case_id": cases.get(pk, ""),
            "from": old.isoformat() if old else "",
            "to": new.isoformat() if new else "",
        }
        for pk, old, new, _ in report.samples[:SAMPLE_MOVES]
    ]
    confirmation.save(update_fields=["checked", "moved", "moves"])


def disputes_on(rule: rules.StageRule) -> Q:
    """Disputes whose current window may be this rule: stored with its key, or (when the
    table could not count it) of a code that uses it."""
    codes = [
        row.code for row in rules.reason_codes(rule.network) if rule.code in (row.code, row.maps_to)
    ]
    return Q(deadline_rule=rule.rule_key) | Q(
        network=rule.network, reason_code__in=codes, deadline_rule=""
    )
