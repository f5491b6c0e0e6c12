"""Reads of evidence that pages, the gate and other features share.

* ``checklist_status(dispute)``: each checklist item with the files that satisfy it and any
  open request for it; what required item is missing; the override in force, if any.
* ``checklist_refusal(dispute)``: why "Ready to submit" is refused, or "" (the services core
  calls it).
* ``open_requests_due(on_or_before=…)``: open requests due by a date, for the reminder sweep.
* ``requests_for_user(user, today)``: "My evidence requests", open and overdue first.
* ``current_letter(dispute)``: the current rebuttal letter's text ("" when none).
"""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Case, IntegerField, Q, Value, When

from calendar_rules.rules import RuleLookupError
from calendar_rules.rules.evidence import Checklist, ChecklistItem, checklist, evidence_table

from .models import ChecklistOverride, EvidenceItem, EvidenceRequest, RebuttalLetter, RequestStatus


@dataclass
class ChecklistRow:
    item: ChecklistItem
    files: list = field(default_factory=list)
    open_requests: list = field(default_factory=list)

    @property
    def satisfied(self) -> bool:
        return bool(self.files)

    @property
    def status(self) -> str:
        if self.files:
            n = len(self.files)
            return f"{n} file{'s' if n != 1 else ''}"
        if self.open_requests:
            due = min(r.due_on for r in self.open_requests)
            return f"Requested, due {due:%b} {due.day}"
        return "Missing" if self.item.required else "Not yet provided"


@dataclass
class ChecklistStatus:
    checklist: Checklist | None
    rows: list[ChecklistRow]
    override: ChecklistOverride | None

    @property
    def missing_required(self) -> list[ChecklistItem]:
        return [row.item for row in self.rows if row.item.required and not row.satisfied]

    @property
    def blocks_ready(self) -> bool:
        return bool(self.missing_required) and self.override is None


def dispute_checklist(dispute) -> Checklist | None:
    try:
        return checklist(dispute.network, dispute.reason_code)
    except RuleLookupError:
        return None


def active_items(dispute):
    """Items not withdrawn, oldest first, with who uploaded them."""
    return (
        EvidenceItem.objects.filter(dispute=dispute, withdrawn=False)
        .select_related("uploaded_by", "on_behalf_of", "duplicate_of")
        .order_by("uploaded_at", "id")
    )


def checklist_status(dispute, *, items=None, requests=None) -> ChecklistStatus:
    found = dispute_checklist(dispute)
    items = list(active_items(dispute)) if items is None else items
    if requests is None:
        requests = list(EvidenceRequest.objects.filter(dispute=dispute, status=RequestStatus.OPEN))
    rows = []
    for item in found.items if found else ():
        rows.append(
            ChecklistRow(
                item,
                [f for f in items if f.kind == item.kind.key and f.duplicate_of_id is None],
                [r for r in requests if r.is_open and item.kind.key in (r.kinds or [])],
            )
        )
    override = (
        ChecklistOverride.objects.filter(dispute=dispute, stage=dispute.stage)
        .select_related("actor")
        .first()
    )
    return ChecklistStatus(found, rows, override)


def checklist_refusal(dispute) -> str:
    """Why the dispute may not be marked ready to submit, in words; "" when it may."""
    status = checklist_status(dispute)
    if not status.blocks_ready:
        return ""
    missing = ", ".join(item.kind.label.lower() for item in status.missing_required)
    return (
        f"Mark ready to submit refused: required evidence is missing ({missing}). Upload it, "
        "or an ops lead can override the checklist with a reason."
    )


def kind_choices(dispute=None) -> list[tuple[str, str]]:
    """Evidence kinds for an upload form: the dispute's checklist first, then the rest."""
    kinds = evidence_table().kinds
    first = []
    found = dispute_checklist(dispute) if dispute is not None else None
    if found:
        first = [item.kind.key for item in found.items]
    rest = [key for key in kinds if key not in first and key != "other"]
    return [(key, kinds[key].label) for key in [*first, *rest, "other"]]


def open_requests_due(*, on_or_before: date | None = None, dispute_ids=None):
    """Open evidence requests due on or before ``on_or_before`` (all open ones when None),
    soonest first, with their dispute, contact and requester loaded: what a reminder chases."""
    found = EvidenceRequest.objects.filter(status=RequestStatus.OPEN).select_related(
        "dispute", "dispute__client", "contact", "colleague", "requested_by"
    )
    if on_or_before is not None:
        found = found.filter(due_on__lte=on_or_before)
    if dispute_ids is not None:
        found = found.filter(dispute_id__in=dispute_ids)
    return found.order_by("due_on", "id")


def requests_for_user(user, *, today: date, include_closed_days: int = 30):
    """The requests a Customer Success user made or owns the client of: open overdue first,
    then open by due date, then recently closed."""
    from datetime import timedelta

    mine = Q(requested_by=user) | Q(dispute__client__cs_owner=user) | Q(colleague=user)
    recent = Q(status=RequestStatus.OPEN) | Q(
        closed_at__date__gte=today - timedelta(days=include_closed_days)
    )
    order = Case(
        When(status=RequestStatus.OPEN, due_on__lt=today, then=Value(0)),
        When(status=RequestStatus.OPEN, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return (
        EvidenceRequest.objects.filter(mine & recent)
        .select_related("dispute", "dispute__client", "contact", "colleague", "requested_by")
        .annotate(rank=order)
        .order_by("rank", "due_on", "id")
    )


def received_counts(requests) -> dict[int, int]:
    """Files received (not withdrawn) per request id."""
    from django.db.models import Count

    rows = (
        EvidenceItem.objects.filter(request__in=[r.pk for r in requests], withdrawn=False)
        .values("request_id")
        .annotate(n=Count("id"))
    )
    return {row["request_id"]: row["n"] for row in rows}


def letter_versions(dispute):
    return (
        RebuttalLetter.objects.filter(dispute=dispute).select_related("author").order_by("-version")
    )


def current_letter(dispute) -> str:
    """The current rebuttal letter's text: the latest version, "" when none was written."""
    latest = letter_versions(dispute).values_list("body", flat=True).first()
    return latest or ""
