"""Every act on a dispute goes through here.

One keyword-only service per business act (``claim``, ``assign``, each filing, each recorded
network event, each ending, ``add_note`` …), all on one core (``_act``): lock the dispute's row,
check the version the user saw, check the actor's permission, check the rules, change the
dispute, save it and append one event to its case history, in one database transaction. Side
effects run after commit (``disputes.history.on_event`` subscribers, ``delay_on_commit``).

``why_not`` says why an act would be refused without taking it; every refusal is a
``DisputeError`` whose ``status`` is the HTTP status pages and the API answer with (409 changed
meanwhile, 403 the role may not, 422 the rules refuse).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed, can_proceed, has_transition_perm

from calendar_rules import calendars, nacha

from . import history, states
from .choices import Stage, WorkState
from .deadlines import apply_deadline
from .evidence.bundles.gate import FILING_ACTS
from .models import Dispute, Transaction

SYSTEM = "System"  # the system actor's name when a caller does not say which process acted


class DisputeError(Exception):
    """A refusal the user can read: the message says what happened and what to do."""

    status = 422


class StaleDispute(DisputeError):
    status = 409

    def __init__(self, dispute, message: str = ""):
        super().__init__(
            message
            or f"Dispute {dispute.case_id} changed while you were looking at it "
            f"(it is now {dispute.get_stage_display().lower()}, "
            f"{dispute.get_state_display().lower()}). Reload it and try again."
        )


class RoleRefused(DisputeError, PermissionDenied):
    status = 403


class TransitionRefused(DisputeError):
    status = 422


def http_status(refusal: Exception) -> int:
    """The HTTP status a page or the API answers a refusal with."""
    if isinstance(refusal, DisputeError):
        return refusal.status
    if isinstance(refusal, PermissionDenied):
        return 403
    return 422


CONDITION_REASONS = {
    states.within_dishonor_window: lambda d: (
        "the dishonor window has closed: the return settled on "
        f"{d.return_settled_on} and could be dishonored until "
        f"{_dishonor_deadline(d.return_settled_on)}"
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


def _dishonor_deadline(settled_on):
    try:
        return nacha.dishonor_deadline(settled_on)
    except calendars.CalendarRangeError:
        return "a date outside the banking calendar"


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


def _label(dispute, name: str) -> str:
    return transition_custom(dispute, name).get("label") or name.replace("_", " ").capitalize()


def refusal_reason(dispute, name: str) -> str:
    """Why transition ``name`` cannot run on this dispute now, in words."""
    _method, meta = transition_meta(dispute, name)
    field = meta.field.name
    current = meta.field.get_state(dispute)
    label = _label(dispute, name)
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


# --- the core ---------------------------------------------------------------------------------


def _locked(dispute_id: int) -> Dispute:
    return (
        Dispute.objects.select_for_update(of=("self",))
        .select_related("transaction", "client", "assignee")
        .get(pk=dispute_id)
    )


def _version_refusal(dispute, actor, expected_version) -> DisputeError | None:
    """A person acts on what they saw: their version must be given and still current."""
    if actor is None and expected_version is None:
        return None  # the system acts on the row as it finds it, under the lock
    if isinstance(expected_version, bool) or not isinstance(expected_version, int):
        return StaleDispute(
            dispute,
            f"Reload dispute {dispute.case_id}: the page you acted from did not say which "
            "version of it you saw.",
        )
    if dispute.version != expected_version:
        return StaleDispute(dispute)
    return None


def why_not(*, dispute, name: str, actor, expected_version=None) -> DisputeError | None:
    """Why transition ``name`` would be refused for ``actor`` now, or None if it would run.

    One order everywhere: changed meanwhile (409), then the role (403), then the rules (422)."""
    refusal = _version_refusal(dispute, actor, expected_version)
    if refusal is not None:
        return refusal
    try:
        method, _meta = transition_meta(dispute, name)
    except TransitionRefused as exc:
        return exc
    if actor is not None and not has_transition_perm(method, actor):
        # has_transition_perm is False too when the transition does not apply: ask the role
        # question of the permission alone, so the rule refusal below gets its own words.
        permission = _permission(dispute, name)
        if permission and not actor.has_perm(permission):
            return RoleRefused(f"Your role may not take “{_label(dispute, name)}” on a dispute.")
    if not can_proceed(method):
        return TransitionRefused(refusal_reason(dispute, name))
    if name == "mark_ready":
        # Required evidence must be on file unless an ops lead overrode the checklist.
        from .evidence.selectors import checklist_refusal

        if reason := checklist_refusal(dispute):
            return TransitionRefused(reason)
    if name in FILING_ACTS:
        # Filing our documents needs a submitted bundle (an ops lead may go without, saying why).
        from .evidence.bundles.services import filing_refusal

        return filing_refusal(dispute=dispute, name=name, actor=actor)
    return None


def _permission(dispute, name: str) -> str | None:
    _method, meta = transition_meta(dispute, name)
    for transition_ in meta.transitions.values():
        if isinstance(transition_.permission, str):
            return transition_.permission
    return None


def _event_kind(name: str) -> str:
    return {"claim": "claimed", "assign": "assigned"}.get(name, "transition")


@transaction.atomic
def transition_dispute(
    *,
    dispute_id: int,
    name: str,
    actor,
    expected_version: int | None = None,
    comment: str = "",
    system_actor: str = "",
    override_reason: str = "",
    **params,
) -> Dispute:
    """The core of every state-changing act: run transition ``name`` and record it.

    A filing act needs a submitted bundle that passed preflight unless an ops lead gives
    ``override_reason`` (``disputes.evidence.bundles.services.filing_check``).

    Returns the saved dispute. Raises StaleDispute (another change landed first, or a person
    acted without saying which version they saw), RoleRefused, or TransitionRefused (the stage,
    state or rules forbid it), each with the reason in words."""
    dispute = _locked(dispute_id)
    refusal = why_not(dispute=dispute, name=name, actor=actor, expected_version=expected_version)
    if refusal is not None:
        raise refusal
    bundle_facts = _filing_check(dispute, name, actor, override_reason)
    method, _meta = transition_meta(dispute, name)
    label = _label(dispute, name)
    before = {"from_stage": dispute.stage, "from_state": dispute.state}
    previous_assignee = dispute.assignee
    try:
        method(**params)
    except (TransitionNotAllowed, ValueError) as exc:
        raise TransitionRefused(f"{label} refused: {exc}") from exc
    _after_change(dispute, before=before)
    payload = {"act": name, "label": label, **before, "comment": comment.strip()}
    params_json = history.jsonable(params)
    if "assignee" in params:
        payload["assignee_name"] = _person(params["assignee"])
        if previous_assignee is not None and previous_assignee != params["assignee"]:
            payload["previous_assignee"] = previous_assignee.pk
            payload["previous_assignee_name"] = _person(previous_assignee)
        params_json.pop("assignee", None)
    if params_json:
        payload["params"] = params_json
    if bundle_facts:
        payload.update(bundle_facts)
    history.record_event(
        dispute=dispute,
        kind=_event_kind(name),
        actor=actor,
        system_actor=system_actor or ("" if actor else SYSTEM),
        payload=payload,
    )
    return dispute


def _filing_check(dispute, name, actor, override_reason) -> dict | None:
    from .evidence.bundles.services import filing_check

    return filing_check(dispute=dispute, name=name, actor=actor, override_reason=override_reason)


def _person(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _after_change(dispute, *, before) -> None:
    """Bookkeeping every change shares: version, timestamps, deadlines; then save."""
    now = timezone.now()
    if dispute.stage != before["from_stage"]:
        apply_deadline(dispute)
    if dispute.first_touched_at is None and dispute.state != WorkState.NEW:
        dispute.first_touched_at = now
    if dispute.state == WorkState.SUBMITTED and before["from_state"] != WorkState.SUBMITTED:
        dispute.submitted_at = now
    if dispute.state == WorkState.CLOSED and dispute.closed_at is None:
        dispute.closed_at = now
    dispute.version += 1
    dispute.updated_at = now
    dispute.save()


# --- the named acts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Act:
    """A named service for one transition, as the pages and the API offer it."""

    name: str
    service: Callable[..., Dispute]


def _named(name: str, doc: str) -> Callable[..., Dispute]:
    def service(
        *,
        dispute_id: int,
        actor,
        expected_version=None,
        comment: str = "",
        override_reason: str = "",
        **params,
    ) -> Dispute:
        return transition_dispute(
            dispute_id=dispute_id,
            name=name,
            actor=actor,
            expected_version=expected_version,
            comment=comment,
            override_reason=override_reason,
            **params,
        )

    service.__name__ = service.__qualname__ = name
    service.__doc__ = doc
    return service


def claim(*, dispute_id: int, actor, expected_version=None, comment: str = "") -> Dispute:
    """The actor takes the dispute. The event records who held it before."""
    return transition_dispute(
        dispute_id=dispute_id,
        name="claim",
        actor=actor,
        expected_version=expected_version,
        comment=comment,
        assignee=actor,
    )


def assign(*, dispute_id: int, assignee, actor, expected_version=None, comment="") -> Dispute:
    """An ops lead gives the dispute to ``assignee``. The event records who held it before."""
    return transition_dispute(
        dispute_id=dispute_id,
        name="assign",
        actor=actor,
        expected_version=expected_version,
        comment=comment,
        assignee=assignee,
    )


request_evidence = _named("request_evidence", "Work state → awaiting evidence.")
receive_evidence = _named("receive_evidence", "Work state → in review: the evidence came in.")
mark_ready = _named("mark_ready", "Work state → ready to submit.")
back_to_review = _named("back_to_review", "Work state → in review.")
visa_submit_dispute_response = _named(
    "visa_submit_dispute_response", "Visa: we filed our dispute response (``on``)."
)
visa_receive_pre_arbitration = _named(
    "visa_receive_pre_arbitration", "Visa: the issuer filed pre-arbitration (``on``)."
)
visa_submit_pre_arbitration_response = _named(
    "visa_submit_pre_arbitration_response", "Visa: we answered pre-arbitration (``on``)."
)
visa_receive_arbitration = _named(
    "visa_receive_arbitration", "Visa: the issuer filed arbitration (``on``)."
)
visa_file_pre_arbitration = _named(
    "visa_file_pre_arbitration", "Visa Allocation: we filed pre-arbitration (``on``)."
)
visa_receive_pre_arbitration_response = _named(
    "visa_receive_pre_arbitration_response",
    "Visa Allocation: the issuer answered our pre-arbitration (``on``).",
)
visa_file_arbitration = _named("visa_file_arbitration", "Visa: we filed arbitration (``on``).")
mc_submit_second_presentment = _named(
    "mc_submit_second_presentment", "Mastercard: we filed a second presentment (``on``)."
)
mc_receive_pre_arbitration = _named(
    "mc_receive_pre_arbitration", "Mastercard: the issuer filed pre-arbitration (``on``)."
)
mc_submit_pre_arbitration_response = _named(
    "mc_submit_pre_arbitration_response", "Mastercard: we answered pre-arbitration (``on``)."
)
mc_receive_arbitration = _named(
    "mc_receive_arbitration", "Mastercard: the issuer escalated to arbitration (``on``)."
)
nacha_provide_authorization_proof = _named(
    "nacha_provide_authorization_proof", "NACHA: we sent the RDFI proof of authorization (``on``)."
)
nacha_receive_return = _named("nacha_receive_return", "NACHA: the return settled (``on``).")
nacha_request_wsud = _named("nacha_request_wsud", "NACHA: we asked the RDFI for the WSUD (``on``).")
nacha_receive_wsud = _named("nacha_receive_wsud", "NACHA: the WSUD arrived (``on``).")
nacha_dishonor = _named("nacha_dishonor", "NACHA: we dishonored the return (``on``, ``code``).")
nacha_receive_contest = _named(
    "nacha_receive_contest", "NACHA: the RDFI contested our dishonor (``on``, ``code``)."
)
nacha_reinitiate = _named("nacha_reinitiate", "NACHA: we reinitiated the entry (``on``).")
record_won = _named("record_won", "Close the dispute won (``on``, ``recovered_amount``).")
record_lost = _named("record_lost", "Close the dispute lost (``on``).")
accept_liability = _named("accept_liability", "Close the dispute: we accept liability (``on``).")
record_expired = _named("record_expired", "Close the dispute: our window ran out (``on``).")
record_withdrawn = _named("record_withdrawn", "Close the dispute: the other side withdrew.")

# The acts pages and the API offer, each bound to its own service (the URL patterns are built
# from this table, so nothing picks a service from a string at request time).
ACTS: dict[str, Act] = {
    service.__name__: Act(service.__name__, service)
    for service in (
        claim,
        assign,
        request_evidence,
        receive_evidence,
        mark_ready,
        back_to_review,
        visa_submit_dispute_response,
        visa_receive_pre_arbitration,
        visa_submit_pre_arbitration_response,
        visa_receive_arbitration,
        visa_file_pre_arbitration,
        visa_receive_pre_arbitration_response,
        visa_file_arbitration,
        mc_submit_second_presentment,
        mc_receive_pre_arbitration,
        mc_submit_pre_arbitration_response,
        mc_receive_arbitration,
        nacha_provide_authorization_proof,
        nacha_receive_return,
        nacha_request_wsud,
        nacha_receive_wsud,
        nacha_dishonor,
        nacha_receive_contest,
        nacha_reinitiate,
        record_won,
        record_lost,
        accept_liability,
        record_expired,
        record_withdrawn,
    )
}


def act_params(name: str, *, on=None, code=None, recovered_amount=None, assignee=None) -> dict:
    """The keyword arguments act ``name`` takes from a form, and none it does not."""
    params = {}
    if name == "assign":
        params["assignee"] = assignee
    if on is not None and name not in ("claim", "assign") and name in ACTS:
        params["on"] = on
    if code:
        params["code"] = code
    if recovered_amount is not None and name == "record_won":
        params["recovered_amount"] = recovered_amount
    return params


# --- opening, notes, many at once ---------------------------------------------------------------


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
    system_actor: str = "",
    source: str = "",
) -> Dispute:
    """Open a dispute at its network's entry stage (or ``stage``), with deadlines and its first
    event. ``source`` says where it came from when not typed in ("NACHA file X, line 12").

    Raises ValidationError for an unknown reason code, a rail the network does not use, or a
    case id the network already has."""
    stage = stage or states.entry_stage(network)
    if stage not in Stage.values:
        raise ValidationError({"stage": f"{stage!r} is not a dispute stage."})
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
    # The FSM fields are protected: full_clean would assign them, so it skips them.
    dispute.full_clean(exclude=["stage", "state"])
    apply_deadline(dispute)
    dispute.save(force_insert=True)
    payload = {"params": {"stage_started_on": stage_started_on}, "comment": comment}
    if source:
        payload["source"] = source
    history.record_event(
        dispute=dispute,
        kind="opened",
        actor=actor,
        system_actor=system_actor or ("" if actor else SYSTEM),
        payload=payload,
    )
    return dispute


@transaction.atomic
def add_note(*, dispute_id: int, author, body: str):
    """Add a note to the dispute's history. Notes are never edited: a correction is a new note.
    Returns the event. A note does not change the dispute, so it does not bump its version."""
    if not author.has_perm("disputes.add_note"):
        raise RoleRefused("Your role may not add notes.")
    body = body.strip()
    if not body:
        raise ValidationError({"body": "A note cannot be empty."})
    dispute = _locked(dispute_id)
    return history.record_event(
        dispute=dispute, kind="note_added", actor=author, payload={"body": body}
    )


def assign_disputes(
    *, dispute_ids, assignee, actor, expected_versions: dict[int, int]
) -> tuple[list[int], dict[int, str]]:
    """Assign (or, when ``assignee`` is the actor, claim) many disputes at once, each at the
    version the user saw. Returns (done ids, {id: why not}). Each dispute is its own
    transaction, so one refusal does not undo the others; a dispute changed meanwhile, or one
    whose version the user did not send, is refused, not taken over."""
    done, refused = [], {}
    for dispute_id in dispute_ids:
        version = expected_versions.get(dispute_id)
        try:
            if assignee == actor:
                claim(dispute_id=dispute_id, actor=actor, expected_version=version)
            else:
                assign(
                    dispute_id=dispute_id,
                    assignee=assignee,
                    actor=actor,
                    expected_version=version,
                )
            done.append(dispute_id)
        except (DisputeError, PermissionDenied) as exc:
            refused[dispute_id] = str(exc)
        except Dispute.DoesNotExist:
            refused[dispute_id] = "No such dispute."
    return done, refused


def available_transitions(*, dispute, user) -> list[dict]:
    """The transitions this user may take on this dispute now, for buttons."""
    offered = []
    for transition_ in [
        *dispute.get_available_user_state_transitions(user),
        *dispute.get_available_user_stage_transitions(user),
    ]:
        if transition_.custom.get("internal") or transition_.name not in ACTS:
            continue
        offered.append(
            {"name": transition_.name, "target": transition_.target, **transition_.custom}
        )
    return offered
