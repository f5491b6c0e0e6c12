"""Evidence pages: upload (multipart, works without JavaScript; JSON for the drag-and-drop
script), the permission-checked file view, withdraw, requests, checklist override, the letter
editor, "My evidence requests" and the client's upload page (no account; signed link).

Every change goes through ``disputes.evidence.services``; a refusal is shown in words with the
status ``services.http_status`` gives it; no input yields a 500.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from calendar_rules.rules.evidence import evidence_table
from disputes import services as core
from disputes.models import Dispute, business_today

from . import letters, links, selectors, services, storage
from .forms import CloseRequestForm, LetterForm, OverrideForm, RequestForm, UploadForm, WithdrawForm
from .models import EvidenceItem, EvidenceRequest

MAX_FILES_PER_POST = 20
INLINE_TYPES = {"application/pdf", "image/png", "image/jpeg", "text/plain", "text/csv"}
VIEW = "disputes.view_dispute"


def _dispute(pk) -> Dispute:
    try:
        return Dispute.objects.select_related("client", "transaction").get(pk=pk)
    except Dispute.DoesNotExist:
        raise Http404("No such dispute.") from None


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _uploads(request) -> list[services.Upload]:
    files = request.FILES.getlist("file")[:MAX_FILES_PER_POST]
    # Never read more than the limit (plus one byte) of a file into memory: an oversize file
    # is refused by its declared size.
    limit = settings.EVIDENCE_MAX_BYTES + 1
    return [services.Upload(f.name or "", f.read(limit), f.size) for f in files]


def _refusal(request, dispute, message: str, status: int):
    if _wants_json(request):
        return JsonResponse(
            {"saved": [], "refused": [{"name": "", "message": message}]}, status=status
        )
    messages.error(request, message)
    return redirect(dispute)


def _upload_answer(request, dispute, result, *, back):
    """JSON for the script (201 when something was saved, else 422); otherwise messages and a
    redirect back to the page (PRG)."""
    if _wants_json(request):
        return JsonResponse(
            {
                "saved": [
                    {
                        "id": i.pk,
                        "name": i.original_name,
                        "type": i.content_type,
                        "pages": i.pages,
                        "duplicate": i.duplicate_of_id is not None,
                    }
                    for i in result.saved
                ],
                "refused": [{"name": n, "message": m} for n, m in result.refused],
            },
            status=201 if result.saved else 422,
        )
    for item in result.saved:
        note = (
            " It is the same file as one already on the dispute: marked duplicate."
            if item.duplicate_of_id
            else ""
        )
        messages.success(request, f"{item.original_name}: uploaded.{note}")
    for name, message in result.refused:
        messages.error(request, f"{name}: not accepted. {message}")
    return HttpResponseRedirect(back)


# --- staff ------------------------------------------------------------------------------------


@require_POST
@login_required
@permission_required(VIEW, raise_exception=True)
def upload(request, pk):
    """POST /disputes/<id>/evidence/: multipart, ``file`` repeatable, ``kind``, optional
    ``description`` and ``on_behalf_of`` (a client contact id)."""
    dispute = _dispute(pk)
    form = UploadForm(request.POST, dispute=dispute)
    uploads = _uploads(request)
    if not uploads:
        return _refusal(request, dispute, "Choose at least one file to upload.", 422)
    if not form.is_valid():
        first = next(iter(form.errors.values()))[0]
        return _refusal(request, dispute, f"{first} (What is it?)", 422)
    try:
        result = services.upload_evidence(
            dispute_id=dispute.pk,
            uploads=uploads,
            kind=form.cleaned_data["kind"],
            description=form.cleaned_data["description"],
            on_behalf_of=form.cleaned_data["on_behalf_of"],
            actor=request.user,
        )
    except (core.DisputeError, PermissionDenied) as exc:
        return _refusal(request, dispute, str(exc), core.http_status(exc))
    except ValidationError as exc:
        return _refusal(request, dispute, exc.messages[0], 422)
    return _upload_answer(request, dispute, result, back=dispute.get_absolute_url() + "#evidence")


def _item(pk, item_id) -> EvidenceItem:
    item = EvidenceItem.objects.filter(pk=item_id, dispute_id=pk).first()
    if item is None:
        raise Http404("No such file on this dispute.")
    return item


@require_GET
@login_required
@permission_required(VIEW, raise_exception=True)
def download(request, pk, item_id):
    """The file, to a signed-in user who may read the dispute: streamed from the filesystem, or
    a redirect to a presigned S3 URL that expires in minutes. Served with the type found by
    content, never sniffed by the browser, in a sandbox."""
    item = _item(pk, item_id)
    inline = item.content_type in INLINE_TYPES and request.GET.get("download") is None
    disposition = content_disposition_header(not inline, item.original_name)
    if storage.is_remote():
        url = item.file.storage.url(
            item.file.name,
            parameters={
                "ResponseContentType": item.content_type,
                "ResponseContentDisposition": disposition,
            },
        )
        return HttpResponseRedirect(url)
    try:
        handle = item.file.open("rb")
    except FileNotFoundError:
        raise Http404("The stored file is missing.") from None
    response = FileResponse(handle, content_type=item.content_type)
    response["Content-Disposition"] = disposition
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    )
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@login_required
@permission_required(VIEW, raise_exception=True)
def withdraw(request, pk, item_id):
    item = _item(pk, item_id)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the file is withdrawn.")
        return redirect(item.dispute)
    try:
        services.withdraw_evidence(
            item_id=item.pk, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except (core.DisputeError, PermissionDenied) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{item.original_name}: withdrawn.")
    return HttpResponseRedirect(item.dispute.get_absolute_url() + "#evidence")


@require_POST
@login_required
@permission_required(VIEW, raise_exception=True)
def create_request(request, pk):
    dispute = _dispute(pk)
    form = RequestForm(request.POST, dispute=dispute)
    back = dispute.get_absolute_url() + "#evidence-requests"
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"Evidence request: {label + ': ' if label else ''}{errors[0]}")
        return HttpResponseRedirect(back)
    try:
        made = services.request_evidence(
            dispute_id=dispute.pk,
            actor=request.user,
            expected_version=form.cleaned_data["version"],
            kinds=form.cleaned_data["kinds"],
            due_on=form.cleaned_data["due_on"],
            message=form.cleaned_data["message"],
            confirm_late=form.cleaned_data["confirm_late"],
            **form.recipient_kwargs(),
        )
    except (core.DisputeError, PermissionDenied) as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        sent = " and sent the upload link by e-mail" if made.contact_id else ""
        messages.success(
            request, f"Asked {made.recipient_name()}{sent}, due {made.due_on:%b} {made.due_on.day}."
        )
    return HttpResponseRedirect(back)


@require_POST
@login_required
@permission_required(VIEW, raise_exception=True)
def close_request(request, pk, request_id, how):
    dispute = _dispute(int(pk))
    if not EvidenceRequest.objects.filter(pk=request_id, dispute=dispute).exists():
        raise Http404("No such request on this dispute.")
    form = CloseRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Reload the page and try again.")
        return redirect(dispute)
    act = services.answer_request if how == "answered" else services.cancel_request
    try:
        act(
            request_id=request_id,
            actor=request.user,
            expected_version=form.cleaned_data["version"],
            comment=form.cleaned_data["comment"],
        )
    except (core.DisputeError, PermissionDenied) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            "Request marked answered."
            if how == "answered"
            else "Request cancelled: its link no longer works.",
        )
    return HttpResponseRedirect(dispute.get_absolute_url() + "#evidence-requests")


@require_POST
@login_required
@permission_required(VIEW, raise_exception=True)
def override(request, pk):
    dispute = _dispute(pk)
    form = OverrideForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Checklist override: say why the dispute may go ahead without it.")
        return HttpResponseRedirect(dispute.get_absolute_url() + "#checklist")
    try:
        services.override_checklist(
            dispute_id=dispute.pk, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except (core.DisputeError, PermissionDenied) as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(
            request, "Checklist overridden: the dispute may be marked ready to submit."
        )
    return HttpResponseRedirect(dispute.get_absolute_url() + "#checklist")


@require_http_methods(["GET", "POST"])
@login_required
@permission_required(VIEW, raise_exception=True)
def letter(request, pk):
    """The rebuttal letter editor: the current version (or the family's template filled with
    the dispute's facts), the earlier versions below."""
    dispute = _dispute(pk)
    versions = list(selectors.letter_versions(dispute))
    can_edit = request.user.has_perm(services.P_UPLOAD)
    status = 200
    if request.method == "POST":
        form = LetterForm(request.POST)
        if not can_edit:
            form.add_error(None, "Your role may not edit the rebuttal letter.")
            status = 403
        elif form.is_valid():
            try:
                saved = services.save_letter(
                    dispute_id=dispute.pk,
                    actor=request.user,
                    body=form.cleaned_data["body"],
                    family=form.cleaned_data["family"],
                )
            except ValidationError as exc:
                form.add_error("body", exc.messages[0])
            except (core.DisputeError, PermissionDenied) as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Letter saved as version {saved.version}.")
                return redirect("disputes:evidence_letter", pk=dispute.pk)
        status = status if status != 200 else 422
    else:
        body = (
            versions[0].body
            if versions
            else letters.draft(dispute, items=selectors.active_items(dispute))
        )
        form = LetterForm(
            initial={
                "body": body,
                "family": versions[0].family if versions else letters.family_of(dispute),
            }
        )
    shown = None
    if request.GET.get("version", "").isdigit():
        shown = next((v for v in versions if v.version == int(request.GET["version"])), None)
    family = letters.FAMILIES.get(letters.family_of(dispute), "")
    context = {
        "dispute": dispute,
        "form": form,
        "versions": versions,
        "shown": shown,
        "family_label": family,
        "can_edit": can_edit,
    }
    return render(request, "evidence/letter.html", context, status=status)


@require_GET
@login_required
@permission_required(VIEW, raise_exception=True)
def my_requests(request):
    """ "My evidence requests": the ones this user made, owns the client of, or was asked for;
    open overdue first, then open by due date, then closed in the last 30 days."""
    today = business_today()
    found = list(selectors.requests_for_user(request.user, today=today)[:300])
    counts = selectors.received_counts(found)
    kinds = evidence_table().kinds
    rows = [
        {
            "request": r,
            "overdue": r.is_open and r.due_on < today,
            "days_left": (r.due_on - today).days,
            "received": counts.get(r.pk, 0),
            "items": [kinds[k].label if k in kinds else k for k in r.kinds],
        }
        for r in found
    ]
    open_rows = [row for row in rows if row["request"].is_open]
    context = {
        "rows": rows,
        "today": today,
        "open_count": len(open_rows),
        "overdue_count": sum(1 for row in open_rows if row["overdue"]),
    }
    return render(request, "evidence/my_requests.html", context)


# --- the client's upload link (no account) ------------------------------------------------------


def _link_headers(response):
    response["Referrer-Policy"] = "no-referrer"  # the token must not leak to other sites
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def _link_refused(request, exc: links.LinkRefused):
    if request.method == "POST" and _wants_json(request):
        return _link_headers(
            JsonResponse(
                {"saved": [], "refused": [{"name": "", "message": str(exc)}]}, status=exc.status
            )
        )
    response = render(
        request, "evidence/client_refused.html", {"message": str(exc)}, status=exc.status
    )
    return _link_headers(response)


@require_http_methods(["GET", "POST"])
def client_upload(request, request_id, token):
    """The client's page: what is asked and by when, in plain words; upload only, to this one
    request; rate-limited; every upload (and the first visit) is an event in the history."""
    now = timezone.now()
    try:
        ask = links.resolve(request_id, token, now=now)
    except links.LinkRefused as exc:
        return _link_refused(request, exc)
    kinds = evidence_table().kinds
    asked = [kinds[k] for k in ask.kinds if k in kinds]
    choices = [(k.key, k.label) for k in asked] + [("other", kinds["other"].label)]
    if request.method == "POST":
        return _client_post(request, ask, token, choices, now)
    services.record_link_opened(request_id=ask.pk, now=now)
    return _client_page(request, ask, token, asked, choices)


def _client_page(request, ask, token, asked, choices, status=200):
    received = list(ask.items.filter(withdrawn=False).order_by("uploaded_at"))
    context = {
        "ask": ask,
        "token": token,
        "asked": asked,
        "received": received,
        "form": UploadForm(dispute=ask.dispute, kinds=choices),
        "txn": ask.dispute.transaction,
        "days_left": (ask.due_on - business_today()).days,
        "action": links.upload_path(ask),
    }
    return _link_headers(render(request, "evidence/client_upload.html", context, status=status))


def _client_post(request, ask, token, choices, now):
    if request.POST.get("done"):
        try:
            services.answer_request(
                request_id=ask.pk, actor=None, system_actor=services.client_actor(ask)
            )
        except core.DisputeError as exc:
            return _link_refused(request, links.LinkRefused(str(exc), 410))
        return _link_headers(render(request, "evidence/client_done.html", {"ask": ask}))
    uploads = _uploads(request)
    back = links.upload_path(ask)
    if not uploads:
        return _client_refusal(request, back, "Choose at least one file to send.", 422)
    if not links.take_upload_slot(ask, now=now, files=len(uploads)):
        return _client_refusal(
            request,
            back,
            "You have sent a lot of files through this link in the last hour. Please wait an "
            "hour and try again, or contact the person who asked.",
            429,
        )
    form = UploadForm(request.POST, dispute=ask.dispute, kinds=choices)
    if not form.is_valid():
        return _client_refusal(request, back, "Say what the file is (choose from the list).", 422)
    try:
        result = services.upload_evidence(
            dispute_id=ask.dispute_id,
            uploads=uploads,
            kind=form.cleaned_data["kind"],
            description=form.cleaned_data["description"],
            on_behalf_of=ask.contact,
            request=ask,
            actor=None,
            system_actor=services.client_actor(ask),
        )
    except (core.DisputeError, ValidationError) as exc:
        message = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
        return _client_refusal(request, back, message, 422)
    return _link_headers(_upload_answer(request, ask.dispute, result, back=back))


def _client_refusal(request, back, message, status):
    if _wants_json(request):
        return _link_headers(
            JsonResponse(
                {"saved": [], "refused": [{"name": "", "message": message}]}, status=status
            )
        )
    messages.error(request, message)
    return _link_headers(HttpResponseRedirect(back))
