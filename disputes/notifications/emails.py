"""How notifications read: subject, plain text, HTML with inline CSS, the digest's .ics."""

from datetime import date
from functools import lru_cache

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from disputes import ical
from disputes.filters import person_name
from disputes.templatetags.disputes_tags import money

from . import thresholds
from .models import Kind, Notification
from .people import OPS_LEAD
from .services import ops_date


def _day(d: date) -> str:
    return f"{d:%a}, {d:%b} {d.day}"


# What our move is at a stage, in the words of the network's rules (fallback: "<stage> response").
OUR_MOVE = {
    "dispute": "dispute response",
    "chargeback": "second presentment",
    "pre_arbitration": "pre-arbitration response",
    "pre_arbitration_response": "arbitration filing",
    "arbitration": "arbitration response",
    "authorization_proof_requested": "proof of authorization",
    "return": "decision on the return (dishonor or accept)",
    "wsud_received": "decision on the return after the WSUD",
    "wsud_requested": "follow-up on the WSUD request",
    "dishonor": "follow-up on the dishonored return",
    "contest": "response to the contested dishonor",
}


def what_is_due(dispute) -> str:
    """ "Visa dispute response": the filing our current stage's clock is for."""
    move = OUR_MOVE.get(dispute.stage, f"{dispute.get_stage_display().lower()} response")
    return f"{dispute.get_network_display()} {move}"


def reminder_headline(notification: Notification) -> str:
    """The first line: what is due, when, for which client and amount."""
    dispute = notification.dispute
    today = ops_date(notification.created_at)
    due = notification.due_on
    deadline = "network deadline" if notification.deadline == "network" else "internal deadline"
    if due < today:
        when = f"was due {_day(due)} ({deadline}, overdue)"
    elif due == today:
        when = f"is due today, {_day(due)} ({deadline})"
    else:
        when = f"is due {_day(due)} ({deadline})"
    return (
        f"{what_is_due(dispute)} {when} for {dispute.client.name}, "
        f"{money(dispute.amount, dispute.currency)}: {dispute_url(dispute)}"
    )


def dispute_url(dispute) -> str:
    return f"{settings.SITE_URL}{dispute.get_absolute_url()}"


def _reminder(notification: Notification):
    dispute = notification.dispute
    escalation = notification.kind == Kind.ESCALATION
    prefix = "Escalation" if escalation else "Reminder"
    context = {
        "notification": notification,
        "dispute": dispute,
        "headline": reminder_headline(notification),
        "url": dispute_url(dispute),
        "threshold_label": _threshold_label(notification.threshold),
        "escalation": escalation,
        "assignee": person_name(dispute.assignee) if dispute.assignee else "nobody",
        "amount": money(dispute.amount, dispute.currency),
        "recipient": person_name(notification.recipient) if notification.recipient else "",
        "settings_url": f"{settings.SITE_URL}/notifications/settings/",
        "site_url": settings.SITE_URL,
    }
    subject = (
        f"{prefix}: {dispute.get_network_display()} {dispute.case_id} · "
        f"{_threshold_label(notification.threshold)} · {dispute.client.name}"
    )
    return subject, context, "notifications/reminder"


def _threshold_label(name: str, deadline: str = "internal") -> str:
    return thresholds.Threshold(name, deadline, date.min, date.min, 0).label()


def _chaser(notification: Notification):
    from disputes.evidence.models import EvidenceRequest

    dispute = notification.dispute
    request = EvidenceRequest.objects.select_related("contact").get(pk=notification.subject_id)
    to_client = notification.recipient_id is None
    label = _threshold_label(notification.threshold, "evidence")
    amount = money(dispute.amount, dispute.currency)
    due = notification.due_on
    if to_client:
        headline = (
            f"The evidence we asked for about the {dispute.get_network_display()} dispute "
            f"{dispute.case_id} ({amount}) is due {_day(due)}."
        )
    else:
        state = "was due" if due < ops_date(notification.created_at) else "is due"
        headline = (
            f"Evidence from {dispute.client.name} for {dispute.get_network_display()} "
            f"{dispute.case_id} {state} {_day(due)}, {amount}: {dispute_url(dispute)}"
        )
    context = {
        "notification": notification,
        "dispute": dispute,
        "request": request,
        "headline": headline,
        "to_client": to_client,
        "threshold_label": label,
        "amount": amount,
        "url": dispute_url(dispute),
        "asked": request.recipient_name() or "the client",
        "settings_url": f"{settings.SITE_URL}/notifications/settings/",
    }
    subject = f"Evidence request: {dispute.get_network_display()} {dispute.case_id} · {label}"
    if not to_client:
        subject += f" · {dispute.client.name}"
    return subject, context, "notifications/chaser"


def render_digest(digest) -> tuple[str, str, str]:
    """(subject, text, html) of a digest."""
    context = {
        "digest": digest,
        "site_url": settings.SITE_URL,
        "settings_url": f"{settings.SITE_URL}/notifications/settings/",
    }
    return (
        digest.subject,
        render_to_string("notifications/digest.txt", context),
        render_to_string("notifications/digest.html", context),
    )


def digest_ics(digest, stamp) -> str:
    # The leads share one team calendar (one text per run); everyone else has their own.
    scope = "team" if digest.role == OPS_LEAD else digest.user.pk
    return _calendar(scope, tuple(digest.deadlines), digest.week_of, stamp)


@lru_cache(maxsize=8)
def _calendar(scope, deadlines: tuple, week_of: date, stamp) -> str:
    events = [
        ical.AllDayEvent(
            uid=f"digest-{scope}-{week_of:%Y%m%d}-{n}@astra-ops", day=day, summary=summary, url=url
        )
        for n, (day, summary, url) in enumerate(deadlines)
        if day is not None
    ]
    return ical.calendar(events, name=f"Astra Ops deadlines, week of {week_of}", stamp=stamp)


def message_for(notification: Notification, *, connection=None) -> EmailMultiAlternatives:
    if notification.kind == Kind.DIGEST:
        return _digest_message(notification, connection)
    render = _chaser if notification.kind == Kind.CHASER else _reminder
    subject, context, template = render(notification)
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.email],
        connection=connection,
        headers={"X-Astra-Notification": str(notification.pk)},
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message


def _digest_message(notification: Notification, connection) -> EmailMultiAlternatives:
    from .digest import build

    digest = build(notification.recipient, now=notification.created_at)
    subject, text, html = render_digest(digest)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.email],
        connection=connection,
        headers={"X-Astra-Notification": str(notification.pk)},
    )
    message.attach_alternative(html, "text/html")
    message.attach(
        f"deadlines-{digest.week_of:%Y-%m-%d}.ics",
        digest_ics(digest, notification.created_at),
        "text/calendar",
    )
    return message
