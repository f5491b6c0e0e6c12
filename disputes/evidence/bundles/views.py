"""The bundle panel's acts: render, watch the progress, submit, choose the channel, order the
items, and download a version exactly as it was stored.

An HTMX request gets the panel back (``#bundle-panel``); a plain form post is redirected to the
dispute page. Refusals are shown in the panel with the status ``services.http_status`` gives.
"""

import hashlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from disputes import services as core
from disputes.models import Dispute

from . import selectors, services
from .models import BundleVersion
from .preflight import megabytes

PANEL = "bundles/_panel.html"


def _dispute(pk) -> Dispute:
    try:
        return Dispute.objects.select_related("client", "transaction").get(pk=pk)
    except Dispute.DoesNotExist:
        raise Http404("No such dispute.") from None


def _version(pk, number) -> BundleVersion:
    try:
        return BundleVersion.objects.select_related("dispute").get(dispute_id=pk, number=number)
    except BundleVersion.DoesNotExist:
        raise Http404("No such bundle version.") from None


def panel_context(request, dispute, *, error="", notice="") -> dict:
    return {
        "dispute": dispute,
        "request": request,
        "can_prepare": request.user.has_perm("disputes.upload_evidence"),
        "error": error,
        "notice": notice,
        **selectors.panel(dispute),
    }


def _answer(request, dispute, *, error="", notice="", status=200):
    if request.htmx:
        context = panel_context(request, dispute, error=error, notice=notice)
        return render(request, PANEL, context, status=status)
    if error:
        messages.error(request, error)
    elif notice:
        messages.success(request, notice)
    return redirect(f"{dispute.get_absolute_url()}#bundle")


def _act(request, pk, do, notice):
    dispute = _dispute(pk)
    try:
        do(dispute)
    except (core.DisputeError, PermissionDenied) as exc:
        return _answer(request, dispute, error=str(exc), status=core.http_status(exc))
    return _answer(request, _dispute(pk), notice=notice)


@require_POST
@login_required
@permission_required("disputes.view_dispute", raise_exception=True)
def render_new(request, pk):
    return _act(
        request,
        pk,
        lambda d: services.request_render(dispute_id=d.pk, actor=request.user),
        "Rendering a new version of the bundle.",
    )


@require_GET
@login_required
@permission_required("disputes.view_dispute", raise_exception=True)
def panel(request, pk):
    """The panel alone: what the progress bar polls while a version renders."""
    dispute = _dispute(pk)
    return render(request, PANEL, panel_context(request, dispute))


@require_POST
@login_required
@permission_required("disputes.view_dispute", raise_exception=True)
def submit(request, pk, number):
    version = _version(pk, number)
    return _act(
        request,
        pk,
        lambda d: services.submit_bundle(version_id=version.pk, actor=request.user),
        f"Bundle version {number} submitted.",
    )


@require_POST
@login_required
@permission_required("disputes.view_dispute", raise_exception=True)
def channel(request, pk):
    name = request.POST.get("channel", "")
    return _act(
        request,
        pk,
        lambda d: services.choose_channel(dispute_id=d.pk, channel=name, actor=request.user),
        "Channel changed. Render the bundle again to check it against this channel.",
    )


def _ids(values) -> list[int]:
    return [int(v) for v in values if str(v).isdigit()][:500]


@require_POST
@login_required
@permission_required("disputes.view_dispute", raise_exception=True)
def order(request, pk):
    """The whole order at once (what dragging posts), or one item up or down (the buttons)."""
    if "move" in request.POST:
        item, _, way = request.POST["move"].partition(":")
        offset = -1 if way == "up" else 1
        ids = _ids([item])
        if not ids:
            return _answer(request, _dispute(pk), error="Choose an item to move.", status=422)

        def do(d):
            services.move_item(dispute_id=d.pk, item_id=ids[0], offset=offset, actor=request.user)
    else:
        ids = _ids(request.POST.getlist("item"))

        def do(d):
            services.order_items(dispute_id=d.pk, item_ids=ids, actor=request.user)

    return _act(request, pk, do, "Order of the items saved.")


@require_GET
@login_required
@permission_required("disputes.view_dispute", raise_exception=True)
def download(request, pk, number):
    """The version's PDF, byte for byte as stored. A submitted version whose stored bytes no
    longer match its SHA-256 is not served."""
    version = _version(pk, number)
    if not version.file:
        raise Http404("This version has no file.")
    try:
        data = version.file.open("rb").read()
    except OSError:
        raise Http404("The file of this version is missing from storage.") from None
    if version.sha256 and hashlib.sha256(data).hexdigest() != version.sha256:
        return HttpResponse(
            "The stored file no longer matches the fingerprint recorded when it was made.",
            status=409,
            content_type="text/plain; charset=utf-8",
        )
    response = FileResponse(
        iter([data]),
        content_type="application/pdf",
        as_attachment=request.GET.get("inline") != "1",
        filename=version.file_name or f"bundle-v{number}.pdf",
    )
    response["Content-Length"] = str(len(data))
    response["X-Content-SHA256"] = version.sha256
    response["Cache-Control"] = "private, no-store"
    response["X-Bundle-Size"] = megabytes(len(data))
    return response
