"""After an evidence request to a client contact commits, e-mail them the upload link."""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from disputes.history import on_event


@on_event("evidence_requested")
def send_request_link(event) -> None:
    from .links import upload_url
    from .models import EvidenceRequest

    request = (
        EvidenceRequest.objects.select_related(
            "contact", "requested_by", "dispute__client", "dispute__transaction"
        )
        .filter(pk=event.payload.get("request"))
        .first()
    )
    if request is None or request.contact is None or not request.is_open:
        return
    from calendar_rules.rules.evidence import evidence_table

    kinds = evidence_table().kinds
    context = {
        "ask": request,
        "asked": [kinds[k] for k in request.kinds if k in kinds],
        "link": upload_url(request),
        "txn": request.dispute.transaction,
    }
    send_mail(
        subject=(
            f"Documents needed by {request.due_on:%B} {request.due_on.day}: "
            f"disputed payment to {request.dispute.client.name}"
        ),
        message=render_to_string("evidence/request_email.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[request.contact.email],
        fail_silently=True,
    )
