"""The evidence acts. Each is a keyword-only service with an explicit actor that locks the
dispute's row and records one event in its case history in the same transaction.

* ``upload_evidence``: validate every file by content first (nothing is stored for a refused
  file), then store each accepted file and record ``evidence_added``. A file already on the
  dispute (same SHA-256) is kept and flagged as a duplicate of the first.
* ``withdraw_evidence``: an item is withdrawn, never deleted.
* ``request_evidence``: ask a client contact or a colleague for checklist items by a due date
  (default: the deadline engine's client-evidence due date). Sets the dispute's
  ``client_evidence_due`` (a dispute-row change: the version is bumped) and, from a state that
  allows it, moves the work state to "awaiting evidence" through the services core.
* ``answer_request`` / ``cancel_request`` / ``expire_requests``: close requests; the dispute's
  client-evidence due date follows the earliest request still open.
* ``override_checklist``: an ops lead lets "Ready to submit" through with required evidence
  missing, for a reason.
* ``save_letter``: a new version of the rebuttal letter.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from calendar_rules import calendars
from calendar_rules.deadlines import client_evidence_due
from calendar_rules.rules.evidence import evidence_table
from disputes import history
from disputes.models import business_today
from disputes.services import (
    DisputeError,
    RoleRefused,
    TransitionRefused,
    _locked,
    _version_refusal,
    transition_dispute,
    why_not,
)

from . import validation
from .links import link_expiry
from .models import (
    ChecklistOverride,
    EvidenceItem,
    EvidenceRequest,
    RebuttalLetter,
    RequestStatus,
)
from .selectors import checklist_status

P_UPLOAD = "disputes.upload_evidence"
P_REQUEST = "disputes.request_evidence"
P_OVERRIDE = "disputes.override_checklist"
SWEEP = "Evidence request sweep"


class LateRequest(DisputeError):
    """The network deadline has passed: the person must confirm before asking anyway."""

    status = 422


@dataclass(frozen=True)
class Upload:
    """One file as received: its name as the sender called it, and its bytes."""

    name: str
    data: bytes
    size: int | None = None  # the full size, when ``data`` was cut at the limit


@dataclass
class UploadResult:
    saved: list = field(default_factory=list)  # EvidenceItem
    refused: list = field(default_factory=list)  # (file name, message)


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def _clean_name(name: str) -> str:
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:255] or "unnamed file"


def _check_kind(kind: str) -> None:
    if kind not in evidence_table().kinds:
        raise ValidationError({"kind": "Choose what kind of evidence this is."})


def upload_evidence(
    *,
    dispute_id: int,
    uploads: list[Upload],
    kind: str,
    actor,
    description: str = "",
    on_behalf_of=None,
    request=None,
    system_actor: str = "",
) -> UploadResult:
    """Validate and store ``uploads``; returns what was saved and what was refused, and why.

    Each file is its own transaction: one refused file does not undo the others, and a
    refused file leaves nothing behind (no row, no stored file, no event)."""
    if actor is not None and not actor.has_perm(P_UPLOAD):
        raise RoleRefused("Your role may not upload evidence.")
    if actor is None and request is None:
        raise RoleRefused("Only a person, or a client through a request link, may upload.")
    _check_kind(kind)
    result = UploadResult()
    for upload in uploads:
        name = _clean_name(upload.name)
        try:
            checked = validation.check(
                upload.data, max_bytes=settings.EVIDENCE_MAX_BYTES, size=upload.size
            )
        except validation.Refused as exc:
            result.refused.append((name, str(exc)))
            continue
        item = _store(
            dispute_id=dispute_id,
            name=name,
            data=upload.data,
            checked=checked,
            kind=kind,
            actor=actor,
            description=description.strip()[:300],
            on_behalf_of=on_behalf_of,
            request=request,
            system_actor=system_actor,
        )
        result.saved.append(item)
    return result


def _store(
    *,
    dispute_id,
    name,
    data,
    checked,
    kind,
    actor,
    description,
    on_behalf_of,
    request,
    system_actor,
) -> EvidenceItem:
    stored = []
    try:
        with transaction.atomic():
            dispute = _locked(dispute_id)
            if not dispute.is_open:
                raise TransitionRefused("This dispute is closed: it takes no more evidence.")
            if (
                request is not None
                and not EvidenceRequest.objects.filter(
                    pk=request.pk, dispute_id=dispute.pk, status=RequestStatus.OPEN
                ).exists()
            ):
                raise TransitionRefused("This request is closed: it takes no more files.")
            first = (
                EvidenceItem.objects.filter(dispute=dispute, sha256=checked.sha256, withdrawn=False)
                .order_by("id")
                .first()
            )
            item = EvidenceItem(
                dispute=dispute,
                kind=kind,
                description=description,
                original_name=name,
                content_type=checked.content_type,
                size=checked.size,
                sha256=checked.sha256,
                pages=checked.pages,
                uploaded_by=actor,
                on_behalf_of=on_behalf_of,
                request=request,
                duplicate_of=first,
                uploaded_at=timezone.now(),
            )
            item.file.save(name, ContentFile(data), save=False)
            stored.append(item.file.name)
            item.save(force_insert=True)
            history.record_event(
                dispute=dispute,
                kind="evidence_added",
                actor=actor,
                system_actor="" if actor else system_actor,
                payload={
                    "item": item.pk,
                    "file_name": name,
                    "kind": kind,
                    "description": description,
                    "content_type": checked.content_type,
                    "type_label": checked.label,
                    "size": checked.size,
                    "pages": checked.pages,
                    "sha256": checked.sha256,
                    "on_behalf_of": getattr(on_behalf_of, "pk", None),
                    "on_behalf_of_name": getattr(on_behalf_of, "name", ""),
                    "request": getattr(request, "pk", None),
                    "duplicate_of": getattr(first, "pk", None),
                    "duplicate_of_name": getattr(first, "original_name", ""),
                },
            )
    except BaseException:
        for stored_name in stored:  # nothing half-saved: no file without its row and event
            item.file.storage.delete(stored_name)
        raise
    return item


@transaction.atomic
def withdraw_evidence(*, item_id: int, actor, reason: str) -> EvidenceItem:
    """Withdraw an item (it stays stored and in the history; it no longer counts)."""
    if not actor.has_perm(P_UPLOAD):
        raise RoleRefused("Your role may not withdraw evidence.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the file is withdrawn."})
    dispute_id = EvidenceItem.objects.values_list("dispute_id", flat=True).get(pk=item_id)
    dispute = _locked(dispute_id)
    item = EvidenceItem.objects.select_for_update().get(pk=item_id)
    if item.withdrawn:
        raise TransitionRefused(f"{item.original_name} was already withdrawn.")
    item.withdrawn = True
    item.withdrawn_at = timezone.now()
    item.withdrawn_by = actor
    item.withdrawal_reason = reason[:300]
    item.save()
    history.record_event(
        dispute=dispute,
        kind="evidence_withdrawn",
        actor=actor,
        payload={
            "item": item.pk,
            "file_name": item.original_name,
            "kind": item.kind,
            "reason": reason,
        },
    )
    return item


# --- requests -------------------------------------------------------------------------------


def default_due_on(dispute, *, today: date) -> date | None:
    """The deadline engine's client-evidence due date for a new request: a few banking days
    before our internal due date (``request_lead_banking_days`` in evidence.yaml)."""
    if dispute.internal_due is None:
        return None
    try:
        return client_evidence_due(
            dispute.internal_due,
            today=today,
            lead_days=evidence_table().request_lead_banking_days,
        )
    except calendars.CalendarRangeError:
        return None


def late_warning(dispute, *, today: date) -> str:
    """A warning before asking for evidence on a dispute whose network deadline has passed."""
    if dispute.network_due is not None and dispute.network_due < today:
        return (
            f"The network deadline passed on {dispute.network_due:%b} {dispute.network_due.day}: "
            "evidence asked for now may be too late to file. Confirm to ask anyway."
        )
    return ""


def _earliest_open_due(dispute, *, excluding=None):
    found = EvidenceRequest.objects.filter(dispute=dispute, status=RequestStatus.OPEN)
    if excluding is not None:
        found = found.exclude(pk=excluding.pk)
    return min(found.values_list("due_on", flat=True), default=None)


def _set_client_due(dispute, due) -> None:
    """Change the dispute row's client-evidence due date (bump the version, save); the caller
    records the event right after, which snapshots the new row."""
    if dispute.client_evidence_due == due:
        return
    dispute.client_evidence_due = due
    dispute.version += 1
    dispute.updated_at = timezone.now()
    dispute.save(update_fields=["client_evidence_due", "version", "updated_at"])


@transaction.atomic
def request_evidence(
    *,
    dispute_id: int,
    actor,
    expected_version: int | None,
    kinds: list[str],
    due_on: date | None = None,
    contact=None,
    colleague=None,
    message: str = "",
    confirm_late: bool = False,
    today: date | None = None,
) -> EvidenceRequest:
    """Ask ``contact`` (a client contact) or ``colleague`` (a user) for evidence ``kinds``.

    ``today`` is the business day the request is made on (default: today; the demo data
    replays requests made days ago)."""
    dispute = _locked(dispute_id)
    refusal = _version_refusal(dispute, actor, expected_version)
    if refusal is not None:
        raise refusal
    if not actor.has_perm(P_REQUEST):
        raise RoleRefused("Your role may not request evidence.")
    today = today or business_today()
    _check_request(dispute, kinds=kinds, contact=contact, colleague=colleague, today=today)
    warning = late_warning(dispute, today=today)
    if warning and not confirm_late:
        raise LateRequest(warning)
    due_on = due_on or default_due_on(dispute, today=today)
    if due_on is None or due_on < today:
        raise ValidationError({"due_on": "Give a due date from today on."})
    if (
        why_not(
            dispute=dispute, name="request_evidence", actor=actor, expected_version=dispute.version
        )
        is None
    ):
        dispute = transition_dispute(
            dispute_id=dispute.pk,
            name="request_evidence",
            actor=actor,
            expected_version=dispute.version,
            comment="Evidence requested from " + (contact.name if contact else _person(colleague)),
        )
    request = EvidenceRequest.objects.create(
        dispute=dispute,
        requested_by=actor,
        contact=contact,
        colleague=colleague,
        kinds=list(kinds),
        message=message.strip(),
        due_on=due_on,
        link_nonce=EvidenceRequest.new_nonce() if contact else "",
        link_expires_at=link_expiry(due_on) if contact else None,
    )
    old_due = dispute.client_evidence_due
    earliest = _earliest_open_due(dispute)
    _set_client_due(dispute, earliest)
    history.record_event(
        dispute=dispute,
        kind="evidence_requested",
        actor=actor,
        payload={
            "request": request.pk,
            "kinds": list(kinds),
            "due_on": due_on,
            "recipient_name": request.recipient_name(),
            "contact": getattr(contact, "pk", None),
            "colleague": getattr(colleague, "pk", None),
            "message": request.message,
            "old_client_evidence_due": old_due,
            "late_confirmed": bool(warning),
        },
    )
    return request


def _check_request(dispute, *, kinds, contact, colleague, today) -> None:
    if not dispute.is_open:
        raise TransitionRefused("This dispute is closed: there is no evidence left to ask for.")
    known = evidence_table().kinds
    if not kinds or any(k not in known for k in kinds):
        raise ValidationError({"kinds": "Choose at least one item to ask for."})
    if (contact is None) == (colleague is None):
        raise ValidationError({"contact": "Ask either one client contact or one colleague."})
    if contact is not None and contact.client_id != dispute.client_id:
        raise ValidationError({"contact": "That contact is not at this dispute's client."})


def _close_request(
    *, request_id, status, kind, actor, system_actor="", comment="", expected_version=None, now=None
) -> EvidenceRequest:
    dispute_id = EvidenceRequest.objects.values_list("dispute_id", flat=True).get(pk=request_id)
    dispute = _locked(dispute_id)
    if actor is not None:
        refusal = _version_refusal(dispute, actor, expected_version)
        if refusal is not None:
            raise refusal
        if not actor.has_perm(P_REQUEST):
            raise RoleRefused("Your role may not close evidence requests.")
    request = EvidenceRequest.objects.select_for_update().get(pk=request_id)
    if request.status != RequestStatus.OPEN:
        raise TransitionRefused(f"This request is already {request.get_status_display().lower()}.")
    request.status = status
    request.closed_at = now or timezone.now()
    request.closed_by = actor
    request.save()
    old_due = dispute.client_evidence_due
    _set_client_due(dispute, _earliest_open_due(dispute))
    history.record_event(
        dispute=dispute,
        kind=kind,
        actor=actor,
        system_actor="" if actor else system_actor,
        payload={
            "request": request.pk,
            "recipient_name": request.recipient_name(),
            "due_on": request.due_on,
            "files": request.items.filter(withdrawn=False).count(),
            "comment": comment.strip(),
            "old_client_evidence_due": old_due,
        },
    )
    return request


@transaction.atomic
def answer_request(
    *, request_id: int, actor, expected_version=None, comment="", system_actor=""
) -> EvidenceRequest:
    """The request is answered: by the client through the link (``actor=None`` and the
    contact's name as ``system_actor``), or marked so by staff."""
    return _close_request(
        request_id=request_id,
        status=RequestStatus.ANSWERED,
        kind="evidence_request_answered",
        actor=actor,
        system_actor=system_actor,
        comment=comment,
        expected_version=expected_version,
    )


@transaction.atomic
def cancel_request(*, request_id: int, actor, expected_version, comment="") -> EvidenceRequest:
    """Staff withdraw a request (its link stops working)."""
    return _close_request(
        request_id=request_id,
        status=RequestStatus.CANCELLED,
        kind="evidence_request_cancelled",
        actor=actor,
        comment=comment,
        expected_version=expected_version,
    )


def expire_requests(*, now=None) -> int:
    """Close every open request whose link has lapsed. Returns how many; safe to repeat (a
    request already closed is skipped)."""
    now = now or timezone.now()
    expired = 0
    lapsed = EvidenceRequest.objects.filter(status=RequestStatus.OPEN, link_expires_at__lte=now)
    for request_id in lapsed.values_list("pk", flat=True):
        try:
            with transaction.atomic():
                _close_request(
                    request_id=request_id,
                    status=RequestStatus.EXPIRED,
                    kind="evidence_request_expired",
                    actor=None,
                    system_actor=SWEEP,
                    now=now,
                )
            expired += 1
        except TransitionRefused:
            continue  # closed meanwhile
    return expired


@transaction.atomic
def record_link_opened(*, request_id: int, now=None) -> bool:
    """The first time the client opens the link, note it in the history. True if recorded."""
    now = now or timezone.now()
    updated = EvidenceRequest.objects.filter(pk=request_id, first_opened_at__isnull=True).update(
        first_opened_at=now
    )
    if not updated:
        return False
    request = EvidenceRequest.objects.select_related("contact").get(pk=request_id)
    dispute = _locked(request.dispute_id)
    history.record_event(
        dispute=dispute,
        kind="evidence_request_opened",
        actor=None,
        system_actor=client_actor(request),
        payload={
            "request": request.pk,
            "recipient_name": request.recipient_name(),
            "due_on": request.due_on,
        },
    )
    return True


def client_actor(request) -> str:
    """How the client reads as the actor of an event: their name, via the link."""
    return f"{request.recipient_name()} (client, via upload link)"


# --- checklist override and rebuttal letter ---------------------------------------------------


@transaction.atomic
def override_checklist(*, dispute_id: int, actor, reason: str) -> ChecklistOverride:
    """An ops lead lets the dispute be marked ready to submit at its current stage although
    required evidence is missing. The reason is recorded with the missing items."""
    if not actor.has_perm(P_OVERRIDE):
        raise RoleRefused("Only an ops lead may override the evidence checklist.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the dispute may go ahead without it."})
    dispute = _locked(dispute_id)
    status = checklist_status(dispute)
    if not status.missing_required:
        raise TransitionRefused("Nothing required is missing: there is nothing to override.")
    if status.override is not None:
        raise TransitionRefused("The checklist is already overridden at this stage.")
    missing = [item.kind.key for item in status.missing_required]
    override = ChecklistOverride.objects.create(
        dispute=dispute, stage=dispute.stage, missing=missing, reason=reason, actor=actor
    )
    history.record_event(
        dispute=dispute,
        kind="checklist_overridden",
        actor=actor,
        payload={
            "override": override.pk,
            "stage": dispute.stage,
            "missing": missing,
            "reason": reason,
        },
    )
    return override


@transaction.atomic
def save_letter(*, dispute_id: int, actor, body: str, family: str) -> RebuttalLetter:
    """Keep a new version of the rebuttal letter (versions are never edited)."""
    if not actor.has_perm(P_UPLOAD):
        raise RoleRefused("Your role may not edit the rebuttal letter.")
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise ValidationError({"body": "The letter cannot be empty."})
    if len(body) > 20_000:
        raise ValidationError({"body": "Keep the letter under 20,000 characters."})
    dispute = _locked(dispute_id)
    last = RebuttalLetter.objects.filter(dispute=dispute).order_by("-version").first()
    if last is not None and last.body == body:
        raise ValidationError({"body": "Nothing changed since the last version."})
    letter = RebuttalLetter.objects.create(
        dispute=dispute,
        version=(last.version + 1) if last else 1,
        family=family[:40],
        body=body,
        author=actor,
    )
    history.record_event(
        dispute=dispute,
        kind="rebuttal_letter_saved",
        actor=actor,
        payload={
            "letter": letter.pk,
            "version": letter.version,
            "family": family,
            "chars": len(body),
            "sha256": hashlib.sha256(body.encode()).hexdigest(),
        },
    )
    return letter
