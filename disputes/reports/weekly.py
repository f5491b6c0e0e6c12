"""The weekly KPI e-mail for ops leads and compliance.

``weekly_kpi_summary(week_start)`` is the context of a section the weekly digest includes
(``reports/_weekly_kpis.html`` and ``.txt``); ``send_weekly_kpis`` sends it on its own, once per
person per week: each send is recorded in ``WeeklyKpiSend`` (unique per person and week) in the
same transaction that decides it, and the mail leaves after commit."""

from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse

from .. import models as dispute_models
from . import activity, report, selectors
from .models import WeeklyKpiSend
from .params import ReportParams
from .summary import one_snapshot


def last_complete_week(today: date) -> date:
    """The Monday of the last full week (Monday to Sunday) before ``today``."""
    return today - timedelta(days=today.weekday() + 7)


def weekly_kpi_summary(week_start: date) -> dict:
    """The figures of the week starting ``week_start`` (a Monday; any day is moved back to its
    Monday) against the week before, with the formulas and counts behind them."""
    week_start = week_start - timedelta(days=week_start.weekday())
    params = ReportParams(week_start, week_start + timedelta(days=6))
    with one_snapshot():
        figures = report.figures_for(params)
        week = report.week_over_week(params, figures)
        total, by_network = report.outcomes(params, figures)
        met = selectors.deadlines_met(report.stages(params, figures))
        missed, _rows = selectors.missed_deadlines(bounds=params.bounds(), limit=0)
        returns = activity.nacha_return_rates(figures=figures, end=params.end)
    flagged = [c for c in returns if c.flagged]
    return {
        "week_start": params.start,
        "week_end": params.end,
        "figures": week["figures"],
        "outcomes": total,
        "by_network": by_network,
        "deadlines": met,
        "missed_count": missed,
        "flagged_returns": flagged,
        "report_url": f"{settings.SITE_URL}{reverse('reports:index')}?{params.query()}",
    }


def recipients():
    """Active people who may view reports (ops leads, compliance, admins) with an address."""
    perm = Q(groups__permissions__codename="view_reports") | Q(
        user_permissions__codename="view_reports"
    )
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    return users.filter(perm | Q(is_superuser=True)).distinct().order_by("pk")


def _message(user, context) -> EmailMultiAlternatives:
    context = {**context, "user": user}
    subject = (
        f"Dispute KPIs, week of {context['week_start']:%b} {context['week_start'].day}: "
        f"{context['outcomes'].closed} closed"
    )
    text = render_to_string("reports/weekly_kpis_email.txt", context)
    html = render_to_string("reports/weekly_kpis_email.html", context)
    message = EmailMultiAlternatives(subject, text, to=[user.email])
    message.attach_alternative(html, "text/html")
    return message


def send_weekly_kpis(*, week_start: date) -> int:
    """Send the week's KPIs to every recipient who has not had them; returns how many were
    sent. Running it twice sends nothing twice."""
    context = weekly_kpi_summary(week_start)
    week_start = context["week_start"]
    sent = 0
    for user in recipients():
        try:
            with transaction.atomic():
                WeeklyKpiSend.objects.create(user=user, week_start=week_start)
                message = _message(user, context)
                transaction.on_commit(message.send)
        except IntegrityError:
            continue  # already sent this week
        sent += 1
    return sent


def today() -> date:
    return dispute_models.business_today()
