"""Every change to a dispute goes through here.

Each service takes keyword-only arguments and the acting user (``actor=None`` is the system).
A state change checks the transition's permission, runs it on a row locked for update, checks
the version the caller read, saves, and appends a hash-chained ``DisputeTransition`` row, all in
one database transaction.
"""

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed, can_proceed, has_transition_perm

from calendar_rules import nacha

from . import states
from .choices import Stage, WorkState
from .deadlines import apply_deadline
from .models import Dispute, DisputeTransition, Note, Transaction


class DisputeError(Exception):
    """A refusal the user can read: the message says what happened and what to do."""


class StaleDispute(DisputeError):
    def __init__(self, dispute):
        super().__init__(
            f"Dispute {dispute.case_id} changed while you were looking at it "
            f"(it is now {dispute.get_stage_display().lower()}, "
            f"{dispute.get_state_display().lower()}). Reload it and try again."
        )


class TransitionRefused(DisputeError):
    pass


CONDITION_REASONS = {
    states.within_dishonor_window: lambda d: (
        "the dishonor window has closed: the return settled on "
        f"{d.return_settled_on} and could be dishonored until "
        f"{nacha.dishonor_deadline(d.return_settled_on)}"
        if d.return_settled_on
        else "the return's settlement date is not recorded"
    ),
    states.may_reinitiate: lambda d: states.reinitiation(d).reason,
    states.requires_wsud: lambda d: f"{d.reason_code} returns carry no WSUD to request",
    states.our_deadline_passed: lambda d: "our response window has not closed yet",
    states.is_mastercard_prearbitration_optional: lambda d: (
        f"pre-arbitration is required for {d.reason_code} before arbitration"
    ),
}


def transition_meta(dispute, name: str):
    """The django-fsm metadata of a public transition method, or TransitionRefused."""
    method = getattr(dispute, name, None)
    meta = getattr(method, "_django_fsm", None)
    if meta is None or name.startswith("_"):
        raise TransitionRefused(f"{name!r} is not a dispute transition.")
    return method, meta


def transition_custom(dispute, name: str) -> dict:
    _method, meta = transition_meta(dispute, name)
    current = meta.field.get_state(dispute)
    found = meta.get_transition(current)
    if found is None:
        found = next(iter(meta.transitions.values()))
    return found.custom


def refusal_reason(dispute, name: str) -> str:
    """Why ``name`` cannot run on this dispute now, in words."""
    _method, meta = transition_meta(dispute, name)
    field = meta.field.name
    current = meta.field.get_state(dispute)
    label = transition_custom(dispute, name).get("label", name)
    found = meta.get_transition(current)
    if found is None:
        where = dispute.get_stage_display() if field == "stage" else dispute.get_state_display()
        return f"{label} is not possible while the dispute is at {where.lower()}."
    for condition in found.conditions:
        if not condition(dispute):
            reason = CONDITION_REASONS.get(condition)
            if reason is None:
                return f"{label} does not apply to a {dispute} ({dispute.reason_code})."
            return f"{label} refused: {reason(dispute)}."
    return f"{label} is not possible now."


@transaction.atomic
def transition_dispute(
    *,
    dispute_id: int,
    name: str,
    actor,
    expected_version: int | None = None,
    comment: str = "",
    **params,
) -> Dispute:
    """Run transition ``name`` on the dispute and record it. Returns the saved dispute.

    Raises StaleDispute when ``expected_version`` is given and another change landed first,
    TransitionRefused when the dispute's stage, state or the rules forbid it (with the reason),
    PermissionDenied when the actor's role may not take it.
    """
    dispute = (
        Dispute.objects.select_for_update(of=("self",))
        .select_related("transaction", "client")
        .get(pk=dispute_id)
    )
    if expected_version is not None and dispute.version != expected_version:
        raise StaleDispute(dispute)
    method, _meta = transition_meta(dispute, name)
    if not can_proceed(method):
        raise TransitionRefused(refusal_reason(dispute, name))
    if actor is not None and not has_transition_perm(method, actor):
        label = transition_custom(dispute, name).get("label", name)
        raise PermissionDenied(f"Your role may not take “{label}” on a dispute.")
    label = transition_custom(dispute, name).get("label", name)
    before = (dispute.stage, dispute.state)
    try:
        method(**params)
    except (TransitionNotAllowed, ValueError) as exc:
        raise TransitionRefused(f"{label} refused: {exc}") from exc
    _after_change(dispute, before=before)
    record_transition(
        dispute=dispute,
        name=name,
        label=label,
        before=before,
        actor=actor,
        comment=comment,
        details=_details(params),
    )
    return dispute


def _details(params: dict) -> dict:
    out = {}
    for key, value in params.items():
        if hasattr(value, "pk"):
            out[key] = value.pk
            out[f"{key}_name"] = str(value)
        elif isinstance(value, date):
            out[key] = value.isoformat()
        else:
            out[key] = str(value) if value is not None else None
    return out


def _after_change(dispute, *, before) -> None:
    """Bookkeeping every change shares: version, timestamps, deadlines; then save."""
    now = timezone.now()
    stage_before, state_before = before
    if dispute.stage != stage_before:
        apply_deadline(dispute)
    if dispute.first_touched_at is None and dispute.state != WorkState.NEW:
        dispute.first_touched_at = now
    if dispute.state == WorkState.SUBMITTED and state_before != WorkState.SUBMITTED:
        dispute.submitted_at = now
    if dispute.state == WorkState.CLOSED and dispute.closed_at is None:
        dispute.closed_at = now
    dispute.version += 1
    dispute.updated_at = now
    dispute.save()


def record_transition(*, dispute, name, label, before, actor, comment="", details=None):
    """Append the audit row for a change, chained to the dispute's previous row.

    Callers hold the dispute's row lock, so sequence numbers cannot race.
    """
    last = (
        DisputeTransition.objects.filter(dispute_id=dispute.pk)
        .order_by("-seq")
        .values_list("seq", "row_hash")
        .first()
    )
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, "")
    row = DisputeTransition(
        dispute_id=dispute.pk,
        seq=seq,
        transition=name,
        label=label,
        from_stage=before[0],
        to_stage=dispute.stage,
        from_state=before[1],
        to_state=dispute.state,
        actor=actor,
        comment=comment,
        details=details or {},
        prev_hash=prev_hash,
    )
    row.row_hash = row.compute_hash()
    row.save(force_insert=True)
    return row


@transaction.atomic
def open_dispute(
    *,
    client,
    transaction_record: Transaction,
    network: str,
    case_id: str,
    reason_code: str,
    amount,
    currency: str,
    received_on: date,
    stage_started_on: date,
    actor,
    stage: str | None = None,
    alt_anchor_date: date | None = None,
    comment: str = "",
) -> Dispute:
    """Open a dispute at its network's entry stage (or ``stage``), with deadlines and audit row.

    Raises ValidationError for an unknown reason code, a rail the network does not use, or a
    case id the network already has.
    """
    stage = stage or states.entry_stage(network)
    dispute = Dispute(
        network=network,
        case_id=case_id,
        client=client,
        transaction=transaction_record,
        rail=transaction_record.rail,
        reason_code=reason_code,
        stage=stage,
        amount=amount,
        currency=currency,
        received_on=received_on,
        stage_started_on=stage_started_on,
        alt_anchor_date=alt_anchor_date,
        return_settled_on=stage_started_on if stage == Stage.RETURN else None,
    )
    if stage not in Stage.values:
        raise ValidationError({"stage": f"{stage!r} is not a dispute stage."})
    # The FSM fields are protected: full_clean would assign them, so it skips them.
    dispute.full_clean(exclude=["stage", "state"])
    apply_deadline(dispute)
    dispute.save(force_insert=True)
    record_transition(
        dispute=dispute,
        name="open",
        label="Dispute opened",
        before=("", ""),
        actor=actor,
        comment=comment,
        details={"stage_started_on": stage_started_on.isoformat()},
    )
    return dispute


def available_transitions(*, dispute, user) -> list[dict]:
    """The transitions this user may take on this dispute now, for buttons."""
    offered = []
    for transition in [
        *dispute.get_available_user_state_transitions(user),
        *dispute.get_available_user_stage_transitions(user),
    ]:
        if transition.custom.get("internal"):
            continue
        offered.append({"name": transition.name, "target": transition.target, **transition.custom})
    return offered


def add_note(*, dispute, author, body: str) -> Note:
    if not author.has_perm("disputes.add_note"):
        raise PermissionDenied("Your role may not add notes.")
    body = body.strip()
    if not body:
        raise ValidationError({"body": "A note cannot be empty."})
    return Note.objects.create(dispute=dispute, author=author, body=body)


def assign_disputes(
    *, dispute_ids, assignee, actor, expected_versions: dict[int, int] | None = None
) -> tuple[list[int], dict[int, str]]:
    """Assign many disputes at once. Returns (assigned ids, {id: why not}). Each dispute is its
    own transaction, so one refusal does not undo the others; with ``expected_versions`` (the
    versions the user saw) a dispute someone else changed meanwhile is refused, not taken over."""
    name = "claim" if assignee == actor else "assign"
    versions = expected_versions or {}
    done, refused = [], {}
    for dispute_id in dispute_ids:
        try:
            transition_dispute(
                dispute_id=dispute_id,
                name=name,
                actor=actor,
                assignee=assignee,
                expected_version=versions.get(dispute_id),
            )
            done.append(dispute_id)
        except (DisputeError, PermissionDenied, Dispute.DoesNotExist) as exc:
            refused[dispute_id] = str(exc) or "not found"
    return done, refused
