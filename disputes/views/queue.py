"""The dispute queue (/disputes/): filter, sort and page through disputes, claim or assign them,
export what the filters match.

Filters, sort, page size and cursor live in the URL, so any view can be bookmarked and shared.
An HTMX request that targets the results gets only the results; everything works as plain links
and form posts too (a post redirects back to the queue with the same filters). Claims and
assignments go through ``disputes.services``; refusals are reported per dispute.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from .. import export as queue_export
from .. import selectors, services
from ..choices import Network, Rail, Stage, WorkState
from ..filters import (
    ANY_STATE,
    DEFAULT_PAGE_SIZE,
    PAGE_SIZES,
    QueueFilter,
    person_name,
    views_for,
)
from ..missed import selectors as missed_selectors
from ..models import Dispute, business_today
from ..templatetags.disputes_tags import money

FULL_PAGE = "disputes/queue.html"
RESULTS = "disputes/_queue_results.html"
RESULTS_TARGET = "queue-results"
CLAIMED = "disputes/_queue_claimed.html"
NOTICE = "disputes/_queue_notice.html"
MAX_SELECTED = max(PAGE_SIZES)
SELECTS = ("network", "rail", "client", "stage", "state", "assignee", "due")
PAGE_KEYS = ("sort", "size")
CURSOR_KEYS = ("after", "before")

# (label, sort, CSS class). Urgency follows the internal due date, so only that column sorts
# (one arrow at a time); received and the other sorts the URL accepts are in
# disputes.filters.SORTS.
COLUMNS = (
    ("Urgency", "", "col-urgency"),
    ("Case", "case", "col-case"),
    ("Network", "network", "col-network"),
    ("Reason", "reason", "col-reason"),
    ("Client", "client", "col-client"),
    ("Amount", "amount", "num col-amount"),
    ("Stage", "stage", "col-stage"),
    ("State", "state", "col-state"),
    ("Assignee", "assignee", "col-assignee"),
    ("Internal due", "due", "col-date"),
    ("Network due", "network_due", "col-date"),
)
# The work state, as short as a dense row needs it (the dispute page says it in full).
STATE_SHORT = {
    WorkState.SUBMITTED: "Submitted",
    WorkState.READY_TO_SUBMIT: "Ready",
    WorkState.AWAITING_EVIDENCE: "Awaiting client",
}
# The rail beside the network's badge, short ("Visa Direct" under a VISA badge is "Direct").
RAIL_SHORT = {Rail.VISA_DIRECT: "Direct", Rail.MASTERCARD_MOVE: "Move"}


@dataclass(frozen=True, slots=True)
class QueueRow:
    """What one row of the queue shows, formatted once in Python: a 200-row page renders in a
    fraction of the time the template engine takes to resolve the same values per cell."""

    dispute: Dispute
    network_label: str
    rail_label: str
    urgency_label: str
    stage_label: str
    state_label: str
    amount: str
    assignee: str
    internal_due: tuple[str, str] | None
    network_due: tuple[str, str] | None
    claimable: bool
    # ("Missed Dec 3", "Missed dishonor deadline on Dec 3, 2026"), even after the stage moved on
    missed: tuple[str, str] | None = None

    @property
    def days(self) -> tuple:
        """Internal due, network due: the date columns in order."""
        return (self.internal_due, self.network_due)


def _day(day, today) -> tuple[str, str] | None:
    """(shown, ISO): "Nov 26", or "Nov 26 ’25" when it is not this year's."""
    if day is None:
        return None
    shown = f"{day:%b} {day.day}"
    if day.year != today.year:
        shown = f"{shown} ’{day:%y}"
    return shown, day.isoformat()


NETWORK_LABELS = dict(Network.choices)
RAIL_LABELS = dict(Rail.choices)
PLAIN_RAILS = (Rail.CARD, Rail.ACH)  # what the network's badge already says
STAGE_LABELS = dict(Stage.choices)
STATE_LABELS = dict(WorkState.choices)


def present(dispute: Dispute, today, user, missed=None) -> QueueRow:
    if dispute.assignee_id is None:
        assignee = ""
    elif dispute.assignee_id == user.pk:
        assignee = "You"
    else:
        assignee = person_name(dispute.assignee)
    return QueueRow(
        dispute=dispute,
        network_label=NETWORK_LABELS.get(dispute.network, dispute.network),
        rail_label=""
        if dispute.rail in PLAIN_RAILS
        else RAIL_SHORT.get(dispute.rail) or RAIL_LABELS.get(dispute.rail, dispute.rail),
        urgency_label=dispute.urgency(today).label,
        stage_label=STAGE_LABELS.get(dispute.stage, dispute.stage),
        state_label=STATE_SHORT.get(dispute.state) or STATE_LABELS.get(dispute.state, ""),
        amount=money(dispute.amount, dispute.currency),
        assignee=assignee,
        internal_due=_day(dispute.internal_due, today),
        network_due=_day(dispute.network_due, today),
        claimable=dispute.assignee_id is None and dispute.is_open,
        missed=(f"Missed {_day(missed.network_due, today)[0]}", missed_selectors.in_words(missed))
        if missed
        else None,
    )


def present_all(disputes, today, user) -> list[QueueRow]:
    """The rows of a page, with each dispute's latest missed deadline (one query)."""
    disputes = list(disputes)
    missed = missed_selectors.latest_missed(d.pk for d in disputes)
    return [present(d, today, user, missed.get(d.pk)) for d in disputes]


def queue_filter(request, data) -> QueueFilter:
    """The queue's filters bound to ``data`` (a QueryDict or a view's params)."""
    return QueueFilter(
        data,
        request=request,
        clients=selectors.queue_clients(),
        people=selectors.queue_people(),
        today=business_today(),
    )


def _query(params: QueueFilter, **changes) -> str:
    """The queue's query string with ``changes`` applied (None removes a key); a new filter,
    sort or size starts again from the first page."""
    data = dict(params.filter_params())
    for key in PAGE_KEYS:
        if params.data.get(key):
            data[key] = params.data[key]
    data.update(changes)
    return urlencode({k: v for k, v in data.items() if v not in (None, "")})


def _url(query: str) -> str:
    base = reverse("disputes:queue")
    return f"{base}?{query}" if query else base


def _sort_note(params: QueueFilter) -> str:
    """The order in words when no column shows it with an arrow: the date the dispute reached
    us (a sort the URL accepts, with no column of its own)."""
    if params.sort.removeprefix("-") != "received":
        return ""
    return f"sorted by date received, {'newest' if params.sort.startswith('-') else 'oldest'} first"


def _sort_headers(params: QueueFilter) -> list[dict]:
    current = params.sort
    headers = []
    for label, key, css in COLUMNS:
        if not key:
            headers.append({"label": label, "css": css, "aria_sort": "", "url": "", "arrow": ""})
            continue
        state = "ascending" if current == key else "descending" if current == f"-{key}" else ""
        next_sort = f"-{key}" if state == "ascending" else key
        headers.append(
            {
                "label": label,
                "css": css,
                "aria_sort": state or "none",
                "url": _url(_query(params, sort=None if next_sort == "due" else next_sort)),
                "arrow": {"ascending": "↑", "descending": "↓"}.get(state, ""),
            }
        )
    return headers


def _views(request, params: QueueFilter) -> tuple[list[dict], int, int]:
    """The built-in views with their (capped) counts, and the count of the current filters with
    the cap it was counted to (a built-in view's, or the lower one of any other filters)."""
    current = params.filter_params()
    shown = views_for(request.user)
    querysets = [selectors.queue_disputes(request.user, params, view.params) for view in shown]
    caps = [selectors.COUNT_CAP] * len(shown)
    active = next((i for i, view in enumerate(shown) if view.params == current), None)
    if active is None:
        querysets.append(selectors.queue_disputes(request.user, params))
        caps.append(selectors.MATCH_CAP)
    counts = selectors.capped_counts(querysets, caps)
    views = [
        {
            "label": view.label,
            "url": _url(_query(params, **({k: None for k in current} | view.params))),
            "count": counts[index],
            "active": index == active,
        }
        for index, view in enumerate(shown)
    ]
    matched = active if active is not None else -1
    return views, counts[matched], caps[matched]


def _abilities(user) -> dict:
    return {
        "can_claim": user.has_perm("disputes.claim_dispute"),
        "can_assign": user.has_perm("disputes.assign_dispute"),
        "can_export": user.has_perm("disputes.export_disputes"),
    }


@require_GET
@login_required
@permission_required("disputes.view_dispute", raise_exception=True)
def queue(request):
    canonical = _canonical(request)
    htmx_results = request.htmx and request.htmx.target == RESULTS_TARGET
    if canonical is not None and not htmx_results:
        return redirect(canonical)
    params = queue_filter(request, request.GET)
    views, matched, matched_cap = _views(request, params)
    page = selectors.for_queue(request.user, params, matching=matched)
    context = _page_context(request, params, page, views=views, matched=matched)
    context["matched_cap"] = matched_cap
    response = render(request, RESULTS if htmx_results else FULL_PAGE, context)
    if htmx_results:
        response["HX-Push-Url"] = canonical or request.get_full_path()
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _page_context(request, params, page, *, views, matched) -> dict:
    query = _query(params)
    form = params.form
    return {
        "params": params,
        "form": form,
        "selects": [form[name] for name in SELECTS],
        "page": page,
        "rows": present_all(page.rows, params.today, request.user),
        "claim_url": reverse("disputes:queue_claim"),
        "today": params.today,
        "views": views,
        "matched": matched,
        "count_cap": selectors.COUNT_CAP,
        "headers": _sort_headers(params),
        "sort_note": _sort_note(params),
        "people": [(user.pk, person_name(user)) for user in params.people],
        "return_to": request.GET.urlencode(),
        "export_url": f"{reverse('disputes:queue_export')}?{query}",
        "next_url": page.next_cursor and _url(_query(params, after=page.next_cursor)),
        "previous_url": page.previous_cursor and _url(_query(params, before=page.previous_cursor)),
        "first_url": _url(query),
        "page_sizes": PAGE_SIZES,
        "default_size": DEFAULT_PAGE_SIZE,
        "filtered": bool(params.filter_params()),
        "search_all_url": _search_all_url(params),
        **_abilities(request.user),
    }


def _canonical(request) -> str | None:
    """The same queue URL without empty or unknown parameters (what a plain form GET sends),
    or None when the URL is already clean."""
    allowed = set(QueueFilter.base_filters) | set(PAGE_KEYS) | set(CURSOR_KEYS)
    kept = [(k, v) for k, v in request.GET.items() if v and k in allowed]
    if len(kept) == len(request.GET) and all(len(request.GET.getlist(k)) == 1 for k in request.GET):
        return None
    return _url(urlencode(kept))


def _search_all_url(params: QueueFilter) -> str:
    """For a search in open disputes only: the same search over closed ones too."""
    if not params.data.get("q") or params.data.get("state"):
        return ""
    return _url(_query(params, state=ANY_STATE))


# --- claiming and assigning ------------------------------------------------------------------


def _back(request):
    """Back to the queue the form was posted from, with the same filters and page (or to the
    calendar day list a claim was made from)."""
    calendar_page = request.POST.get("next", "")
    if calendar_page.startswith("/calendar/") and url_has_allowed_host_and_scheme(
        calendar_page, allowed_hosts=None
    ):
        return redirect(calendar_page)
    given = QueryDict(request.POST.get("return_to", ""))
    allowed = set(QueueFilter.base_filters) | set(PAGE_KEYS) | set(CURSOR_KEYS)
    query = urlencode([(k, v) for k, v in given.items() if k in allowed and v])
    return redirect(_url(query))


def _flash(request, level: str, text: str) -> None:
    messages.add_message(request, messages.SUCCESS if level == "success" else messages.ERROR, text)


def _whole_number(value) -> int | None:
    """A posted id or version: ASCII digits only ("²" and "١" are digits to ``str.isdigit``
    but not to ``int``), at most 18 of them (a bigint), else None."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def _dispute_id(value) -> int:
    found = _whole_number(value)
    if found is None:
        raise Http404("No such dispute.")
    return found


def _render_rows(request, ids, *, notice, level, template, extra=None):
    today = business_today()
    context = {
        "rows": present_all(selectors.queue_rows(ids), today, request.user),
        "today": today,
        "claim_url": reverse("disputes:queue_claim"),
        "notice": notice,
        "level": level,
        "people": [(u.pk, person_name(u)) for u in selectors.queue_people()]
        if request.user.has_perm("disputes.assign_dispute")
        else [],
        **_abilities(request.user),
        **(extra or {}),
    }
    return render(request, template, context)


@require_POST
@login_required
@permission_required("disputes.claim_dispute", raise_exception=True)
def claim(request):
    """Claim one dispute, refused if it changed since the page showed it."""
    dispute_id = _dispute_id(request.POST.get("claim"))
    version = request.POST.get(f"version-{dispute_id}", "")
    try:
        dispute = services.claim(
            dispute_id=dispute_id,
            actor=request.user,
            # A missing or malformed version is refused by the service, not skipped.
            expected_version=_whole_number(version),
        )
        notice, level = f"You claimed {dispute.case_id}.", "success"
    except Dispute.DoesNotExist:
        raise Http404("No such dispute.") from None
    except (services.DisputeError, PermissionDenied) as exc:
        notice, level = str(exc), "error"
    if request.htmx:
        row = present(selectors.queue_rows([dispute_id])[0], business_today(), request.user)
        return _render_rows(
            request, [], notice=notice, level=level, template=CLAIMED, extra={"r": row}
        )
    _flash(request, level, notice)
    return _back(request)


@require_POST
@login_required
def assign(request):
    """Assign the selected disputes to someone (leads), or claim them ("claim": agents).
    Each dispute is assigned on its own; the refusals are listed one by one."""
    claiming = request.POST.get("action") == "claim"
    needed = "disputes.claim_dispute" if claiming else "disputes.assign_dispute"
    if not request.user.has_perm(needed):
        raise PermissionDenied("Your role may not assign disputes to others.")
    posted = (_whole_number(v) for v in request.POST.getlist("dispute"))
    ids = list(dict.fromkeys(pk for pk in posted if pk is not None))
    assignee = request.user if claiming else _assignee(request.POST.get("assignee"))
    if not ids or assignee is None:
        notice = "Select at least one dispute." if not ids else "Choose whom to assign them to."
        return _assign_result(request, [], notice, "error", refusals=[])
    ids = ids[:MAX_SELECTED]
    seen = {i: request.POST.get(f"version-{i}", "") for i in ids}
    done, refused = services.assign_disputes(
        dispute_ids=ids,
        assignee=assignee,
        actor=request.user,
        expected_versions={i: _whole_number(v) for i, v in seen.items() if _whole_number(v)},
    )
    who = "you" if assignee == request.user else person_name(assignee)
    notice = f"Assigned {len(done)} dispute{'' if len(done) == 1 else 's'} to {who}."
    if claiming:
        notice = f"You claimed {len(done)} dispute{'' if len(done) == 1 else 's'}."
    return _assign_result(
        request, ids, notice, "success" if done else "error", refusals=list(refused.items())
    )


def _assignee(value):
    for user in selectors.queue_people():
        if str(user.pk) == value:
            return user
    return None


def _assign_result(request, ids, notice, level, *, refusals):
    if request.htmx:
        cases = dict(Dispute.objects.filter(pk__in=ids).values_list("pk", "case_id"))
        refused = [(cases.get(pk, f"#{pk}"), why) for pk, why in refusals]
        # The views' counts and the matched count change with an assignment: redraw them.
        params = queue_filter(request, QueryDict(request.POST.get("return_to", "")))
        views, matched, matched_cap = _views(request, params)
        counts = {
            "views": views,
            "matched": matched,
            "matched_cap": matched_cap,
            "count_cap": selectors.COUNT_CAP,
        }
        return _render_rows(
            request,
            ids,
            notice=notice,
            level=level,
            template=NOTICE,
            extra={"refused": refused, **counts},
        )
    refused_ids = [pk for pk, _why in refusals]
    cases = dict(Dispute.objects.filter(pk__in=refused_ids).values_list("pk", "case_id"))
    _flash(request, level, notice)
    for pk, why in refusals:
        messages.error(request, f"{cases.get(pk, f'#{pk}')}: {why}")
    return _back(request)


# --- export ----------------------------------------------------------------------------------


@require_GET
@login_required
@permission_required("disputes.export_disputes", raise_exception=True)
def export(request):
    """Every dispute the queue's filters match (not only the page), in the queue's order, as CSV
    streamed (``disputes.export``: PostgreSQL's COPY, or row by row on SQLite)."""
    params = queue_filter(request, request.GET)
    today = params.today
    response = StreamingHttpResponse(
        queue_export.csv_chunks(request.user, params, today), content_type="text/csv; charset=utf-8"
    )
    name = slugify("-".join(["disputes", *params.filter_params().values()]))[:80]
    response["Content-Disposition"] = f'attachment; filename="{name}-{today:%Y%m%d}.csv"'
    return response
