"""The client's upload link: no account, signed, expiring, scoped to one request, upload-only.

The URL carries the request's id and a token signed (Django's signing, keyed by SECRET_KEY)
over that id and the request's random nonce. A token is refused when its signature does not
verify (tampered or truncated), when it names another request than the URL, when the request
is no longer open (answered, cancelled, expired), or when its expiry has passed. Uploads per
link are rate-limited per hour through the cache.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.urls import reverse

from .models import EvidenceRequest, RequestStatus

SALT = "disputes.evidence.request-link"
LINK_GRACE_DAYS = 7  # the link keeps working a week past the due date, then lapses


class LinkRefused(Exception):
    """A link that cannot be used; the message is for the client, ``status`` for HTTP."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def link_expiry(due_on) -> datetime:
    """End of the day, ops time, ``LINK_GRACE_DAYS`` after the due date."""
    zone = ZoneInfo(settings.OPS_TIME_ZONE)
    return datetime.combine(due_on + timedelta(days=LINK_GRACE_DAYS + 1), time.min, tzinfo=zone)


def token_for(request: EvidenceRequest) -> str:
    return signing.dumps({"r": request.pk, "n": request.link_nonce}, salt=SALT, compress=False)


def upload_path(request: EvidenceRequest) -> str:
    return reverse("evidence_link", args=[request.pk, token_for(request)])


def upload_url(request: EvidenceRequest) -> str:
    return settings.SITE_URL.rstrip("/") + upload_path(request)


def _contact_line(request: EvidenceRequest) -> str:
    who = request.requested_by
    name = who.get_full_name() or "your Astra contact"
    return f"contact {name}" + (f" ({who.email})" if who.email else "")


def resolve(request_id: int, token: str, *, now: datetime) -> EvidenceRequest:
    """The open request this link is good for, or LinkRefused saying why not."""
    invalid = LinkRefused(
        "This upload link is not valid. Check that you opened the whole link from the e-mail; "
        "if it still fails, ask the person who sent it for a new one.",
        404,
    )
    try:
        signed = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise invalid from None
    if not isinstance(signed, dict) or signed.get("r") != request_id:
        raise invalid
    request = (
        EvidenceRequest.objects.select_related(
            "dispute", "contact", "requested_by", "dispute__client"
        )
        .filter(pk=request_id)
        .first()
    )
    if request is None or not request.link_nonce or signed.get("n") != request.link_nonce:
        raise invalid
    if request.status != RequestStatus.OPEN:
        closed = {
            RequestStatus.ANSWERED: "has been answered",
            RequestStatus.CANCELLED: "was cancelled",
            RequestStatus.EXPIRED: "has expired",
        }[request.status]
        raise LinkRefused(
            f"This request {closed}, so this link no longer takes files. If you have more to "
            f"send, {_contact_line(request)}.",
            410,
        )
    if request.link_expires_at is not None and now >= request.link_expires_at:
        raise LinkRefused(
            "This upload link has expired. If you still have documents to send, "
            f"{_contact_line(request)} for a new link.",
            410,
        )
    return request


def take_upload_slot(request: EvidenceRequest, *, now: datetime, files: int) -> bool:
    """Count ``files`` uploads against the link's hourly allowance; False when over it."""
    key = f"evidence-link:{request.pk}:{now:%Y%m%d%H}"
    cache.add(key, 0, timeout=3600)
    try:
        used = cache.incr(key, files)
    except ValueError:
        cache.set(key, files, timeout=3600)
        used = files
    return used <= settings.EVIDENCE_LINK_UPLOADS_PER_HOUR
