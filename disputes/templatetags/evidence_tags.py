"""The evidence panel of the dispute page: ``{% load evidence_tags %}{% evidence_panel %}``.

An inclusion tag, so the dispute page's view needs no change: the panel reads what it shows
through ``disputes.evidence.selectors``."""

from django import template

from disputes.evidence import links, selectors, services
from disputes.evidence.forms import RequestForm, UploadForm
from disputes.evidence.models import EvidenceItem, EvidenceRequest
from disputes.models import business_today

register = template.Library()


@register.inclusion_tag("evidence/_panel.html", takes_context=True)
def evidence_panel(context):
    dispute = context["dispute"]
    user = context["request"].user
    today = business_today()
    everything = list(
        EvidenceItem.objects.filter(dispute=dispute)
        .select_related("uploaded_by", "on_behalf_of", "duplicate_of")
        .order_by("uploaded_at", "id")
    )
    items = [i for i in everything if not i.withdrawn]
    requests = list(
        EvidenceRequest.objects.filter(dispute=dispute)
        .select_related("contact", "colleague", "requested_by")
        .order_by("-created_at")
    )
    status = selectors.checklist_status(
        dispute, items=items, requests=[r for r in requests if r.is_open]
    )
    missing = [item.kind.key for item in status.missing_required]
    contacts = list(dispute.client.contacts.all())
    request_form = RequestForm(
        dispute=dispute,
        contacts=contacts,
        initial={
            "version": dispute.version,
            "kinds": missing,
            "due_on": services.default_due_on(dispute, today=today),
        },
    )
    counts = selectors.received_counts(requests)
    shown_requests = [
        {
            "request": r,
            "link": links.upload_url(r) if r.is_open and r.link_nonce else "",
            "received": counts.get(r.pk, 0),
            "overdue": r.is_open and r.due_on < today,
            "labels": [k.label for k in _kinds(r.kinds)],
        }
        for r in requests[:20]
    ]
    versions = selectors.letter_versions(dispute)
    return {
        "dispute": dispute,
        "request": context["request"],
        "csrf_token": context.get("csrf_token"),
        "status": status,
        "items": items,
        "withdrawn": [i for i in everything if i.withdrawn],
        "requests": shown_requests,
        "upload_form": UploadForm(dispute=dispute, contacts=contacts),
        "request_form": request_form,
        "late_warning": services.late_warning(dispute, today=today),
        "can_upload": user.has_perm(services.P_UPLOAD) and dispute.is_open,
        "can_request": user.has_perm(services.P_REQUEST) and dispute.is_open,
        "can_override": user.has_perm(services.P_OVERRIDE) and dispute.is_open,
        "checklist_keys": [row.item.kind.key for row in status.rows],
        "letter_version": versions.values_list("version", flat=True).first(),
        "today": today,
    }


def _kinds(keys):
    from calendar_rules.rules.evidence import evidence_table

    kinds = evidence_table().kinds
    return [kinds[k] for k in keys if k in kinds]


@register.filter
def filesize(value) -> str:
    from disputes.evidence.validation import megabytes

    try:
        return megabytes(int(value))
    except (TypeError, ValueError):
        return ""


@register.filter
def person(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()
