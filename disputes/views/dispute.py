"""The dispute page: header, deadlines, the transitions the user may take, timeline, notes and
related disputes.

Changes go through the named services of ``disputes.services``: the URL of each act resolves to
its ``services.Act`` (``disputes.urls``), never to a service picked by a string. An HTMX request
gets the re-rendered page body (the ``#dispute-page`` element); a plain form post is redirected
back (PRG) on success. A refusal is shown inline on the form that caused it, with the status
``services.http_status`` gives it (409 changed meanwhile, 403 the role, 422 the rules or invalid
input).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from calendar_rules import calendars
from calendar_rules.presentation import confidence_words

from .. import detail_selectors, selectors, services
from ..choices import Outcome, Party, Stage, WorkState
from ..evidence.bundles import services as bundle_services
from ..evidence.bundles.gate import FILING_ACTS
from ..forms import NoteForm, TransitionForm
from ..models import Dispute, business_today

FULL_PAGE = "disputes/detail.html"
PAGE_BODY = "disputes/_detail_body.html"


def _load(pk) -> Dispute:
    try:
        return detail_selectors.dispute_for_page(pk)
    except Dispute.DoesNotExist:
        raise Http404("No such dispute.") from None


def _offered(dispute, user) -> list[dict]:
    """The transitions to show as buttons: those the user may take now, minus claiming a
    dispute that is already theirs."""
    return [
        spec
        for spec in services.available_transitions(dispute=dispute, user=user)
        if not (spec["name"] == "claim" and dispute.assignee_id == user.pk)
    ]


GROUPS = ("work", "network", "ending")


def _presented(spec: dict, dispute) -> dict:
    """The spec with what the page says about it: its group and what taking it does."""
    if spec.get("outcome"):
        group, effect = "ending", f"Closes the dispute: {Outcome(spec['outcome']).label.lower()}."
    elif spec.get("needs_date"):
        group, effect = "network", f"Stage → {Stage(spec['target']).label.lower()}."
        if spec.get("party") == Party.COUNTERPARTY:
            who = detail_selectors.counterparty_name(dispute)
            effect = f"Records a move by {who}. {effect}"
    elif spec["name"] == "claim" and dispute.assignee_id:
        holder = detail_selectors.display_name(dispute.assignee)
        group, effect = "work", f"{holder} holds this dispute: claiming takes it over from them."
        spec = {**spec, "label": f"Take over from {holder}"}
    elif spec["name"] == "claim":
        group, effect = "work", "Assigns the dispute to you."
    elif spec["name"] == "assign":
        group, effect = "work", "Assigns the dispute."
    else:
        group, effect = "work", f"State → {WorkState(spec['target']).label.lower()}."
    return {**spec, "group": group, "effect": effect}


def _transition_forms(dispute, user, today, bound=None):
    """(spec, form) per offered transition, work first, endings last; ``bound`` replaces the
    form of one transition."""
    people = None
    forms = []
    offered = [_presented(spec, dispute) for spec in _offered(dispute, user)]
    offered.sort(key=lambda spec: GROUPS.index(spec["group"]))
    bundle_missing = _bundle_missing(dispute, user, offered)
    for spec in offered:
        if spec["name"] in bundle_missing and not user.has_perm("disputes.file_without_bundle"):
            # Shown, not offered: filing waits for a submitted bundle, and the page says so.
            spec = {**spec, "waits_for": bundle_services.NO_BUNDLE}
        if bound is not None and bound.spec["name"] == spec["name"]:
            forms.append((spec, bound))
            continue
        if spec.get("needs_assignee") and people is None:
            people = selectors.queue_people()
        form = TransitionForm(
            initial={"version": dispute.version}, spec=spec, dispute=dispute, today=today,
            people=people, may_override=user.has_perm("disputes.file_without_bundle"),
            bundle_missing=spec["name"] in bundle_missing,
        )  # fmt: skip
        forms.append((spec, form))
    return forms


def _bundle_missing(dispute, user, offered) -> set[str]:
    """The offered filing acts that wait for a submitted bundle (one query, when any is offered)."""
    filing = [spec["name"] for spec in offered if spec["name"] in FILING_ACTS]
    if not filing or not bundle_services.bundle_needed(dispute=dispute, name=filing[0], actor=user):
        return set()
    return set(filing)


def _render(request, dispute, *, status=200, bound=None, error=None, note_form=None, notice=""):
    """The whole page, or for HTMX only its body. ``error`` is (transition name, message)."""
    today = business_today()
    user = request.user
    context = {
        "dispute": dispute,
        "today": today,
        "reason": dispute.reason,
        "reason_family": detail_selectors.reason_family(dispute),
        "reason_confidence": confidence_words(dispute.reason.confidence),
        "deadline": detail_selectors.deadline_panel(dispute, today),
        "transition_forms": _transition_forms(dispute, user, today, bound=bound),
        "error": error,
        "timeline": detail_selectors.timeline(dispute),
        "related": detail_selectors.related_disputes(dispute),
        "can_add_note": user.has_perm("disputes.add_note"),
        "note_form": note_form or NoteForm(),
        "notice": notice,
    }
    template = PAGE_BODY if request.htmx else FULL_PAGE
    return render(request, template, context, status=status)


@login_required
@permission_required("disputes.view_dispute", raise_exception=True)
def detail(request, pk):
    return _render(request, _load(pk))


@require_POST
@login_required
@permission_required("disputes.view_dispute", raise_exception=True)
def transition(request, pk, act: services.Act):
    """Take ``act`` (a named service, resolved from the URL) with the posted comment and
    parameters, at the version the user saw."""
    dispute = _load(pk)
    try:
        return _transition(request, dispute, act)
    except (calendars.CalendarRangeError, OverflowError):
        # A date stored before network dates were checked (an import, an old entry) that the
        # rule tables cannot count from: refuse in words rather than fail.
        message = (
            "A date recorded on this dispute is outside the banking calendar, so this step "
            "cannot be counted. Ask a lead to correct the dispute's dates."
        )
        return _render(request, _load(pk), status=422, error=(act.name, message))


def _transition(request, dispute, act):
    pk = dispute.pk
    spec = {"name": act.name, **services.transition_custom(dispute, act.name)}
    people = selectors.queue_people() if spec.get("needs_assignee") else None
    form = TransitionForm(
        request.POST, spec=spec, dispute=dispute, today=business_today(), people=people,
        may_override=request.user.has_perm("disputes.file_without_bundle"),
        bundle_missing=bundle_services.bundle_needed(
            dispute=dispute, name=act.name, actor=request.user
        ),
    )  # fmt: skip
    if not form.is_valid():
        refusal = _why_not_offered(dispute, request.user, act.name, request.POST.get("version"))
        if refusal is not None:
            return _refused(request, dispute, act.name, refusal)
        return _render(request, dispute, status=422, bound=form)
    try:
        act.service(
            dispute_id=dispute.pk,
            actor=request.user,
            expected_version=form.cleaned_data["version"],
            comment=form.cleaned_data["comment"].strip(),
            **form.service_options(),
            **form.transition_params(),
        )
    except (services.DisputeError, PermissionDenied) as exc:
        return _refused(request, _load(pk), act.name, exc)
    return _done(request, _load(pk), f"{spec.get('label', act.name)}: done.")


def _why_not_offered(dispute, user, name, posted_version):
    """For a post whose input did not validate: the refusal the service would give if the act
    is not one this user may take now, so that a refusal is not reported as a missing field.
    None when it is on offer (the form's errors are then the answer). Stale first: what changed
    may be why the form no longer fits (a claim that now needs "take it over")."""
    version = int(posted_version) if str(posted_version or "").isdigit() else None
    if version != dispute.version:
        return services.StaleDispute(dispute)
    if any(spec["name"] == name for spec in _offered(dispute, user)):
        return None
    return services.why_not(dispute=dispute, name=name, actor=user, expected_version=version)


def _refused(request, dispute, name, exc):
    return _render(request, dispute, status=services.http_status(exc), error=(name, str(exc)))


def _done(request, dispute, notice):
    if request.htmx:
        return _render(request, dispute, notice=notice)
    messages.success(request, notice)
    return redirect(dispute)


@require_POST
@login_required
@permission_required("disputes.view_dispute", raise_exception=True)
def add_note(request, pk):
    dispute = _load(pk)
    if not request.user.has_perm("disputes.add_note"):
        return _render(request, dispute, status=403, error=("note", "Your role may not add notes."))
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _render(request, dispute, status=422, note_form=form)
    try:
        services.add_note(
            dispute_id=dispute.pk, author=request.user, body=form.cleaned_data["body"]
        )
    except ValidationError as exc:
        form.add_error("body", exc.messages[0])
        return _render(request, dispute, status=422, note_form=form)
    return _done(request, dispute, "Note added.")
