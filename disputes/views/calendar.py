"""The deadline calendar (month and week), a day's full list, and the private iCalendar feed."""

from datetime import date
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from calendar_rules import calendars

from .. import calendar_selectors, ical, selectors
from ..detail_selectors import counterparty_name
from ..forms import CalendarFilterForm
from ..models import CalendarFeed, business_today
from ..templatetags.disputes_tags import money

PER_DAY = {"month": 4, "week": 12}
DAY_LIST_LIMIT = 500


def _filter_form(request):
    return CalendarFilterForm(
        request.GET or None, clients=selectors.queue_clients(), people=selectors.queue_people()
    )


def _query(form, **extra) -> str:
    """The query string of the form's valid filters (and ``extra``), for links that keep them."""
    params = form.query_params()
    params.update({key: value for key, value in extra.items() if value})
    return urlencode(params)


def _in_range(day: date, fallback: date | None) -> date | None:
    """``day`` if the banking calendar covers its whole page, else ``fallback`` (a hand-edited
    URL may ask for year 1)."""
    lo, hi = date(calendars.FED.first.year + 1, 1, 1), date(calendars.FED.last.year - 1, 1, 1)
    return day if lo <= day <= hi else fallback


@login_required
@permission_required("disputes.view_dispute", raise_exception=True)
def calendar(request):
    """Month or week of internal and network deadlines of open disputes, filtered like the
    queue, with the subscribe section."""
    today = business_today()
    form = _filter_form(request)
    filters = form.filters()
    view, anchor = form.view_and_date(today)
    the_period = calendar_selectors.period(view, _in_range(anchor, today))
    scoped = calendar_selectors.scoped_disputes(request.user, filters)
    deadlines = calendar_selectors.deadlines_by_day(
        scoped, the_period.start, the_period.end, per_day=PER_DAY[view]
    )
    shows_today = the_period.start <= today <= the_period.end
    overdue = calendar_selectors.overdue_count(scoped, today) if shows_today else 0
    feed = CalendarFeed.objects.filter(user=request.user).first()
    context = {
        "form": form,
        "view": view,
        "period": the_period,
        "weeks": calendar_selectors.calendar_weeks(the_period, deadlines, today),
        "today": today,
        "overdue": overdue,
        "overdue_cap": 1000,
        "overdue_url": _overdue_url(filters),
        "filter_query": _query(form),
        "nav": {
            "previous": _query(form, view=view, date=the_period.previous.isoformat()),
            "next": _query(form, view=view, date=the_period.next.isoformat()),
            "today": _query(form, view=view),
            "month": _query(form, view="month", date=the_period.anchor.isoformat()),
            "week": _query(form, view="week", date=the_period.anchor.isoformat()),
        },
        "feed": feed,
        "feed_urls": _feed_urls(feed),
        "feed_all_limit": calendar_selectors.FEED_ALL_LIMIT,
    }
    return render(request, "disputes/calendar.html", context)


@login_required
@permission_required("disputes.view_dispute", raise_exception=True)
def day(request, day):
    """Every deadline of one day (the calendar shows only the first few), with the filters."""
    try:
        the_day = _in_range(date.fromisoformat(day), None)
    except ValueError:
        the_day = None
    if the_day is None:
        raise Http404("Not a date.")
    form = _filter_form(request)
    filters = form.filters()
    page_number = _page_number(request.GET.get("page"))
    rows, total = calendar_selectors.day_page(
        calendar_selectors.scoped_disputes(request.user, filters), the_day, page_number
    )
    size = calendar_selectors.DAY_PAGE_SIZE
    pages = max(1, -(-total // size))
    here = _query(form)
    context = {
        "form": form,
        "day": the_day,
        "rows": rows,
        "total": total,
        "page_number": page_number,
        "pages": pages,
        "first_shown": (page_number - 1) * size + 1 if rows else 0,
        "last_shown": (page_number - 1) * size + len(rows),
        "previous_query": _page_query(here, page_number - 1) if page_number > 1 else None,
        "next_query": _page_query(here, page_number + 1) if page_number < pages else None,
        "closure": calendars.FED.closure_name(the_day),
        "today": business_today(),
        "back_query": _query(form, view="week", date=the_day.isoformat()),
        "claim_url": reverse("disputes:queue_claim"),
        "can_claim": request.user.has_perm("disputes.claim_dispute"),
        "here": request.get_full_path(),
    }
    return render(request, "disputes/calendar_day.html", context)


def _page_number(value) -> int:
    try:
        return max(1, min(int(value), 10_000))
    except (TypeError, ValueError):
        return 1


def _page_query(query: str, page: int) -> str:
    return f"{query}&page={page}" if query else f"page={page}"


def _overdue_url(filters: dict) -> str:
    """The queue's overdue view with the calendar's filters that the queue shares."""
    params = {"due": "overdue"}
    if filters.get("network"):
        params["network"] = filters["network"]
    assignee = filters.get("assignee")
    if assignee in ("me", "unassigned"):
        params["assignee"] = assignee
    return f"{reverse('disputes:queue')}?{urlencode(params)}"


# --- the feed -------------------------------------------------------------------------------


def _feed_urls(feed) -> dict:
    if feed is None:
        return {}
    base = settings.SITE_URL.rstrip("/") + reverse("calendar:feed", args=[feed.token])
    return {"mine": base, "all": f"{base}?scope=all"}


@require_POST
@login_required
@permission_required("disputes.view_dispute", raise_exception=True)
def feed_link(request):
    """Create the user's feed link, rotate it (the old URL stops working at once) or turn it
    off."""
    action = request.POST.get("action")
    if action == "delete":
        CalendarFeed.objects.filter(user=request.user).delete()
        messages.success(request, "Calendar link turned off: the old URL no longer works.")
    elif action in ("create", "rotate"):
        existed = CalendarFeed.objects.filter(user=request.user).exists()
        CalendarFeed.objects.update_or_create(
            user=request.user,
            defaults={"token": CalendarFeed.new_token(), "created_at": timezone.now(),
                      "last_fetched_at": None},
        )  # fmt: skip
        if existed:
            messages.success(request, "New calendar link created: the old URL no longer works.")
        else:
            messages.success(request, "Calendar link created. Add it to your calendar app.")
    else:
        messages.error(request, "Unknown action.")
    return redirect(f"{reverse('calendar:view')}#subscribe")


def feed(request, token):
    """The user's deadlines as iCalendar. No login: the secret token is the credential, so an
    unknown or rotated token, or a user who may no longer read disputes, is a 404 (and the link
    of a deactivated user is deleted: reactivating them does not bring it back)."""
    if not CalendarFeed.is_well_formed(token):
        raise Http404("No such calendar.")
    feed = CalendarFeed.objects.select_related("user").filter(token=token).first()
    if feed is not None and not feed.user.is_active:
        CalendarFeed.revoke_for(feed.user)
        feed = None
    if feed is None or not feed.user.has_perm("disputes.view_dispute"):
        raise Http404("No such calendar.")
    everything = request.GET.get("scope") == "all"
    today = business_today()
    deadlines = calendar_selectors.feed_deadlines(feed.user, everything=everything, today=today)
    now = timezone.now()
    CalendarFeed.objects.filter(pk=feed.pk).update(last_fetched_at=now)
    name = "Astra Ops: all open disputes" if everything else "Astra Ops: my disputes"
    body = ical.calendar(
        (_event(deadline) for deadline in deadlines),
        name=name,
        description="Internal and network deadlines of open disputes",
        stamp=now,
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="astra-ops-deadlines.ics"'
    response["Cache-Control"] = "private, max-age=0"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


def _site_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "astra-ops"


def _event(deadline) -> ical.AllDayEvent:
    dispute = deadline.dispute
    url = settings.SITE_URL.rstrip("/") + dispute.get_absolute_url()
    amount = money(dispute.amount, dispute.currency)
    summary = (
        f"{deadline.label}: {dispute.get_network_display()} {dispute.reason_code} "
        f"{dispute.case_id} {amount} {dispute.client.name}"
    )
    return ical.AllDayEvent(
        uid=f"dispute-{dispute.pk}-{deadline.kind}@{_site_host()}",
        day=deadline.day,
        summary=summary,
        description="\n".join(_description_lines(deadline, url)),
        url=url,
        last_modified=dispute.updated_at,
        sequence=dispute.version,
        categories=(dispute.get_network_display(),),
    )


def _description_lines(deadline, url: str) -> list[str]:
    dispute = deadline.dispute
    if dispute.due_party == "counterparty":
        who = f"Waiting on {counterparty_name(dispute)}"
    else:
        who = "Astra must respond"
    lines = [
        f"{deadline.label} {deadline.day:%a %b} {deadline.day.day}, {deadline.day.year}. {who}.",
        f"{dispute.get_stage_display()} · {dispute.get_state_display()}",
    ]
    if dispute.deadline_explanation:
        lines.append(dispute.deadline_explanation)
    if dispute.deadline_rule:
        lines.append(f"Rule {dispute.deadline_rule}, rules version {dispute.rules_version}")
    lines.append(url)
    return lines
