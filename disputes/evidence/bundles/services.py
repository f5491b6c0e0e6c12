"""Acts on a dispute's bundle: render a version, submit one, choose the channel, order the
items; and the check the filing transitions make. Each act is an event in the case history,
recorded in the same transaction (``bundle_rendered``, ``bundle_submitted``, …)."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from astra_ops.celery import enqueue_on_commit, publish
from disputes import history, leases
from disputes.services import DisputeError, RoleRefused, _locked

from ..models import EvidenceItem, RebuttalLetter
from . import profiles
from .gate import FILING_ACTS
from .models import Bundle, BundleVersion, RenderStatus
from .preflight import Verdict, fit

if TYPE_CHECKING:  # the renderer and its items load WeasyPrint, pypdf and Pillow: at render time
    from .render import BundleRenderer

log = logging.getLogger(__name__)
RENDERER = "Bundle renderer"


class BundleRefused(DisputeError):
    status = 422


def _may_prepare(actor) -> None:
    if not actor.has_perm("disputes.upload_evidence"):
        raise RoleRefused("Your role may not prepare submission bundles.")


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


# --- reading ------------------------------------------------------------------------------------


def bundle_of(dispute) -> Bundle:
    bundle, _ = Bundle.objects.get_or_create(dispute=dispute)
    return bundle


def channel_of(dispute, bundle: Bundle | None = None) -> profiles.Profile:
    """The dispute's channel: the one chosen for it, else its network's."""
    name = bundle.channel if bundle is not None else ""
    if name and name in profiles.channels().profiles:
        return profiles.profile(name)
    return profiles.default_profile(dispute.network)


def ordered_items(dispute, bundle: Bundle | None = None) -> list[EvidenceItem]:
    """The evidence that goes in the bundle (withdrawn items do not), in the ops user's order;
    items not yet placed follow in checklist order (by kind, as first uploaded)."""
    items = list(
        EvidenceItem.objects.filter(dispute=dispute, withdrawn=False, duplicate_of__isnull=True)
    )
    chosen = {pk: n for n, pk in enumerate(bundle.item_order if bundle else [])}
    kind_rank = {}
    for item in sorted(items, key=lambda i: (i.uploaded_at, i.pk)):
        kind_rank.setdefault(item.kind, len(kind_rank))
    kind_rank = {**kind_rank, **_checklist_rank(dispute)}
    return sorted(
        items,
        key=lambda i: (
            chosen.get(i.pk, len(chosen)),
            kind_rank.get(i.kind, len(kind_rank)),
            i.uploaded_at,
            i.pk,
        ),
    )


def _checklist_rank(dispute) -> dict[str, int]:
    """Evidence kinds in the order the reason code's checklist lists them, when there is one."""
    from ..selectors import dispute_checklist

    found = dispute_checklist(dispute)
    return {entry.kind.key: n for n, entry in enumerate(found.items)} if found else {}


def cover_for(dispute) -> dict:
    """The cover page: what the dispute is, in the words the pages use."""
    from disputes.templatetags.disputes_tags import money

    txn = dispute.transaction
    reason = dispute.reason
    facts = [
        ("Network", dispute.get_network_display()),
        ("Case id", dispute.case_id),
        ("Reason code", f"{dispute.reason_code} {reason.name}"),
        ("Stage", dispute.get_stage_display()),
        ("Client", dispute.client.name),
        ("Disputed amount", money(dispute.amount, dispute.currency)),
        ("Transaction amount", money(txn.amount, txn.currency)),
        ("Transaction date", _day(txn.transaction_date)),
        ("Settlement date", _day(txn.settlement_date)),
        ("Dispute received", _day(dispute.received_on)),
        (txn.get_reference_kind_display(), txn.network_reference),
    ]
    if txn.account_last4:
        facts.append(("Account", f"ending {txn.account_last4}"))
    deadline = _day(dispute.network_due) if dispute.network_due else ""
    return {
        "title": f"{dispute.get_network_display()} {dispute.get_stage_display().lower()}: "
        f"response of Astra for case {dispute.case_id}",
        "subtitle": f"{dispute.reason_code} {reason.name}",
        "case_id": dispute.case_id,
        "facts": facts,
        "deadline": deadline,
    }


def _day(value) -> str:
    return f"{value:%b} {value.day}, {value.year}" if value else "—"


def latest_letter(dispute) -> RebuttalLetter | None:
    return RebuttalLetter.objects.filter(dispute=dispute).order_by("-version").first()


# --- acts ---------------------------------------------------------------------------------------


@transaction.atomic
def request_render(*, dispute_id: int, actor, enqueue: bool = True) -> BundleVersion:
    """Queue a render of the dispute's current evidence; returns the new (queued) version.
    The Celery task renders it after commit (``enqueue=False``: the caller renders it, as the
    demo data does)."""
    from .tasks import render_bundle_version

    dispute = _locked(dispute_id)
    _may_prepare(actor)
    bundle = bundle_of(dispute)
    items = ordered_items(dispute, bundle)
    if not items and latest_letter(dispute) is None:
        raise BundleRefused("There is no evidence and no rebuttal letter to put in a bundle yet.")
    last = bundle.versions.order_by("-number").values_list("number", flat=True).first() or 0
    version = BundleVersion.objects.create(
        bundle=bundle,
        dispute=dispute,
        number=last + 1,
        stage=dispute.stage,
        channel=channel_of(dispute, bundle).name,
        items_total=len(items),
        requested_by=actor,
    )
    if enqueue:
        enqueue_on_commit(render_bundle_version, version.pk)
    return version


def requeue_waiting(*, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Queue again every version still waiting to render after ``older_than`` (its task was
    never queued because the broker was down, or was lost), and every version left
    "Rendering" by a worker that died (``disputes.leases``; on PostgreSQL). A version renders
    once however often it is queued (``render_version`` takes its lease and claims it first).
    Returns how many were queued."""
    from .tasks import render_bundle_version

    before = timezone.now() - older_than
    waiting = list(
        BundleVersion.objects.filter(
            status=RenderStatus.QUEUED, requested_at__lt=before
        ).values_list("pk", flat=True)
    )
    rendering = BundleVersion.objects.filter(
        status=RenderStatus.RENDERING, requested_at__lt=before
    ).values_list("pk", flat=True)
    for pk in rendering:
        if leases.alive("bundle_version", pk) is not False:
            continue  # being rendered, or cannot be told (SQLite)
        if BundleVersion.objects.filter(pk=pk, status=RenderStatus.RENDERING).update(
            status=RenderStatus.QUEUED, items_done=0
        ):
            log.warning("bundle version %s was left rendering by a worker that died: requeued", pk)
            waiting.append(pk)
    return sum(publish(render_bundle_version, pk) for pk in waiting)


def render_version(*, version_id: int) -> BundleVersion:
    """Render a queued version (the task's body): progress is written as it goes, so a page
    polling the version sees items done of items total; then the file, its SHA-256, the
    preflight verdict and a ``bundle_rendered`` event. The worker holds the version's lease
    while it renders, so a sweep can tell a render in progress from one whose worker died."""
    with leases.held("bundle_version", version_id) as mine:
        if not mine:  # another worker is rendering it
            return BundleVersion.objects.select_related("dispute", "bundle").get(pk=version_id)
        return _render_claimed(version_id)


def _render_claimed(version_id: int) -> BundleVersion:
    claimed = BundleVersion.objects.filter(pk=version_id, status=RenderStatus.QUEUED).update(
        status=RenderStatus.RENDERING
    )
    version = BundleVersion.objects.select_related("dispute", "bundle").get(pk=version_id)
    if not claimed:
        return version  # rendered (or being rendered) by another worker already
    try:
        pdf, verdict, contents, letter = _render(version)
    except Exception as exc:
        log.exception("bundle version %s failed", version_id)
        _record_failure(version, str(exc) or exc.__class__.__name__)
        return BundleVersion.objects.get(pk=version_id)
    return _record_render(version, pdf, verdict, contents, letter)


def _render(version: BundleVersion):
    dispute = version.dispute
    items = ordered_items(dispute, version.bundle)
    letter = latest_letter(dispute)

    def progress(done, total):
        BundleVersion.objects.filter(pk=version.pk).update(items_done=done, items_total=total)

    profile = profiles.profile(version.channel)
    renderer = renderer_for(dispute, items, letter, profile, progress=progress)
    rendered, verdict = fit(renderer, profile, profiles.channels().ladder)
    contents = [
        {"id": item.pk, "name": item.original_name, "sha256": item.sha256} for item in items
    ]
    return rendered.pdf, verdict, contents, letter


def renderer_for(dispute, items, letter, profile, *, progress=None) -> BundleRenderer:
    """The renderer of this dispute's bundle: its cover, letter and items, for ``profile``."""
    from .items import SourceItem
    from .render import BundleRenderer

    sources = [
        SourceItem(
            name=item.original_name,
            content_type=item.content_type,
            data=_read(item),
            title=item.description or f"{_kind_label(item.kind)} ({item.original_name})",
        )
        for item in items
    ]
    return BundleRenderer(
        cover=cover_for(dispute),
        letter=letter.body if letter else "",
        items=sources,
        max_dpi=profile.max_dpi,
        max_pixels=profile.max_pixels,
        progress=progress,
    )


def render_now(dispute, *, channel: str = "") -> tuple[bytes, Verdict]:
    """Render the dispute's current evidence for ``channel`` (its own when empty), without
    keeping a version: the PDF and its preflight verdict (``render_bundle`` prints them)."""
    bundle = Bundle.objects.filter(dispute=dispute).first()
    profile = profiles.profile(channel) if channel else channel_of(dispute, bundle)
    renderer = renderer_for(
        dispute, ordered_items(dispute, bundle), latest_letter(dispute), profile
    )
    rendered, verdict = fit(renderer, profile, profiles.channels().ladder)
    return rendered.pdf, verdict


def _kind_label(kind: str) -> str:
    from calendar_rules.rules.evidence import evidence_table

    found = evidence_table().kinds.get(kind)
    return found.label if found else kind.replace("_", " ").capitalize()


def _read(item: EvidenceItem) -> bytes:
    with item.file.open("rb") as handle:
        return handle.read()


@transaction.atomic
def _record_render(version, pdf: bytes, verdict: Verdict, contents, letter) -> BundleVersion:
    dispute = _locked(version.dispute_id)
    version = BundleVersion.objects.select_for_update().get(pk=version.pk)
    profile = profiles.profile(version.channel)
    version.file_name = profile.document_name(dispute.case_id, version.number)
    version.file.save(version.file_name, ContentFile(pdf), save=False)
    version.size, version.pages = len(pdf), verdict.pages
    version.sha256 = hashlib.sha256(pdf).hexdigest()
    version.fits, version.verdict = verdict.fits, verdict.as_dict()
    version.contents = contents
    version.letter_version = letter.version if letter else None
    version.status, version.rendered_at = RenderStatus.RENDERED, timezone.now()
    version.items_done = version.items_total = len(contents)
    version.save()
    history.record_event(
        dispute=dispute,
        kind="bundle_rendered",
        actor=version.requested_by,
        system_actor="" if version.requested_by else RENDERER,
        payload={
            "bundle_version": version.number,
            "channel": profile.label,
            "size": version.size,
            "pages": version.pages,
            "sha256": version.sha256,
            "fits": verdict.fits,
            "verdict": verdict.lines(),
        },
    )
    return version


@transaction.atomic
def _record_failure(version, error: str) -> None:
    dispute = _locked(version.dispute_id)
    BundleVersion.objects.filter(pk=version.pk).update(
        status=RenderStatus.FAILED, error=error[:2000], rendered_at=timezone.now()
    )
    history.record_event(
        dispute=dispute,
        kind="bundle_rendered",
        actor=version.requested_by,
        system_actor="" if version.requested_by else RENDERER,
        payload={"bundle_version": version.number, "failed": error[:300]},
    )


@transaction.atomic
def submit_bundle(*, version_id: int, actor) -> BundleVersion:
    """Mark a rendered version that passed preflight as the one sent. From then on it never
    changes; the event records its SHA-256, the submitter and the time."""
    version = BundleVersion.objects.select_related("dispute").get(pk=version_id)
    dispute = _locked(version.dispute_id)
    _may_prepare(actor)
    version = BundleVersion.objects.select_for_update().get(pk=version_id)
    if version.is_submitted:
        raise BundleRefused(f"Bundle version {version.number} was already submitted.")
    if version.status != RenderStatus.RENDERED:
        raise BundleRefused(f"Bundle version {version.number} has not been rendered.")
    if not version.fits:
        raise BundleRefused(
            f"Bundle version {version.number} does not fit its channel; fix it and render again."
        )
    if version.stage != dispute.stage:
        raise BundleRefused(
            f"Bundle version {version.number} was made at another stage; render it again."
        )
    version.submitted_at, version.submitted_by = timezone.now(), actor
    version.save()
    history.record_event(
        dispute=dispute,
        kind="bundle_submitted",
        actor=actor,
        payload={
            "bundle_version": version.number,
            "file_name": version.file_name,
            "channel": profiles.profile(version.channel).label,
            "size": version.size,
            "pages": version.pages,
            "sha256": version.sha256,
        },
    )
    return version


@transaction.atomic
def choose_channel(*, dispute_id: int, channel: str, actor) -> Bundle:
    """Send this dispute's bundle through ``channel`` ("" for its network's own)."""
    dispute = _locked(dispute_id)
    _may_prepare(actor)
    if channel:
        chosen = profiles.channels().profiles.get(channel)
        if chosen is None or dispute.network not in chosen.networks:
            raise BundleRefused(f"That channel does not take {dispute.get_network_display()}.")
    bundle = bundle_of(dispute)
    before = channel_of(dispute, bundle)
    bundle.channel, bundle.updated_at = channel, timezone.now()
    bundle.save()
    after = channel_of(dispute, bundle)
    history.record_event(
        dispute=dispute,
        kind="bundle_channel_changed",
        actor=actor,
        payload={"from": before.label, "to": after.label},
    )
    return bundle


@transaction.atomic
def order_items(*, dispute_id: int, item_ids: list[int], actor) -> Bundle:
    """Put the bundle's items in this order (ids of the dispute's items; others follow)."""
    dispute = _locked(dispute_id)
    _may_prepare(actor)
    bundle = bundle_of(dispute)
    known = {item.pk: item for item in ordered_items(dispute, bundle)}
    order = [pk for pk in dict.fromkeys(item_ids) if pk in known]
    order += [pk for pk in known if pk not in order]
    bundle.item_order, bundle.updated_at = order, timezone.now()
    bundle.save()
    history.record_event(
        dispute=dispute,
        kind="bundle_items_ordered",
        actor=actor,
        payload={"order": [known[pk].original_name for pk in order]},
    )
    return bundle


def move_item(*, dispute_id: int, item_id: int, offset: int, actor) -> Bundle:
    """Move one item up (offset -1) or down (+1) in the bundle."""
    from disputes.models import Dispute

    dispute = Dispute.objects.get(pk=dispute_id)
    ids = [item.pk for item in ordered_items(dispute, bundle_of(dispute))]
    if item_id in ids:
        at = ids.index(item_id)
        to = min(max(at + offset, 0), len(ids) - 1)
        ids.insert(to, ids.pop(at))
    return order_items(dispute_id=dispute_id, item_ids=ids, actor=actor)


# --- the filing check ---------------------------------------------------------------------------


def submitted_version(dispute) -> BundleVersion | None:
    """The latest submitted version, made at the dispute's current stage, that passed preflight."""
    return (
        BundleVersion.objects.filter(
            dispute=dispute, stage=dispute.stage, submitted_at__isnull=False, fits=True
        )
        .order_by("-number")
        .first()
    )


NO_BUNDLE = (
    "Submit a bundle that passed preflight first (or an ops lead files without one, "
    "giving the reason)."
)


def bundle_needed(*, dispute, name: str, actor) -> bool:
    """Whether filing act ``name`` by ``actor`` waits for a submitted bundle: a person filing
    our documents with none submitted at this stage that passed preflight."""
    return (
        name in FILING_ACTS
        and actor is not None
        and settings.FILING_REQUIRES_BUNDLE
        and submitted_version(dispute) is None
    )


def filing_refusal(*, dispute, name: str, actor) -> BundleRefused | None:
    """Why ``actor`` may not take filing act ``name`` now for want of a bundle, or None. An ops
    lead is not refused here: the lead may file without one, giving the reason."""
    if bundle_needed(dispute=dispute, name=name, actor=actor) and not actor.has_perm(
        "disputes.file_without_bundle"
    ):
        return BundleRefused(NO_BUNDLE)
    return None


def filing_check(*, dispute, name: str, actor, override_reason: str = "") -> dict | None:
    """For a filing act: None when it is not one; else what the event records about the bundle
    (its version and SHA-256, or the override and its reason). Raises BundleRefused when there
    is no submitted bundle and no override by someone whose role may give one."""
    if name not in FILING_ACTS or actor is None or not settings.FILING_REQUIRES_BUNDLE:
        return None  # the system records filings made elsewhere (a processor's feed)
    version = submitted_version(dispute)
    if version is not None:
        return {"bundle_version": version.number, "bundle_sha256": version.sha256}
    override_reason = (override_reason or "").strip()
    if override_reason and actor is not None and actor.has_perm("disputes.file_without_bundle"):
        return {"bundle_override": override_reason}
    if override_reason:
        raise RoleRefused("Only an ops lead may file without a submitted bundle.")
    raise BundleRefused(NO_BUNDLE)
