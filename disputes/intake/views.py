"""The intake's pages: upload a file and watch it import, the unmatched originators, the
notifications of change. Ops leads (``import_files``) upload and resolve; everyone who reads
disputes may look."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from astra_ops.celery import enqueue_on_commit

from . import services
from .forms import MatchForm, UploadForm
from .models import ChangeNotice, IntakeFile, ReviewFlag, UnmatchedOriginator
from .tasks import import_intake_file

READ = "disputes.view_dispute"
IMPORT = "disputes.import_files"


@login_required
@permission_required(READ, raise_exception=True)
def imports(request):
    form = UploadForm()
    if request.method == "POST":
        if not request.user.has_perm(IMPORT):
            raise PermissionDenied
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            return _receive(request, form)
    files = IntakeFile.objects.select_related("uploaded_by").defer("content")[:50]
    return render(
        request,
        "intake/imports.html",
        {
            "form": form,
            "files": files,
            "may_import": request.user.has_perm(IMPORT),
            "unmatched_count": UnmatchedOriginator.objects.filter(resolved_at=None).count(),
        },
        status=422 if form.errors else 200,
    )


def _receive(request, form):
    upload = form.cleaned_data["file"]
    try:
        intake_file, created = services.receive_file(
            kind=form.cleaned_data["kind"],
            name=upload.name,
            content=upload.read(),
            uploaded_by=request.user,
            source=form.cleaned_data.get("source") or "",
        )
    except services.IntakeRefused as exc:
        messages.error(request, str(exc))
        return redirect("intake:imports")
    if created:
        enqueue_on_commit(import_intake_file, intake_file.pk)
    else:
        messages.info(request, "This file was imported before: nothing changes.")
    return redirect("intake:detail", pk=intake_file.pk)


@login_required
@permission_required(READ, raise_exception=True)
def detail(request, pk):
    intake_file = get_object_or_404(IntakeFile.objects.defer("content"), pk=pk)
    template = "intake/_progress.html" if request.htmx else "intake/detail.html"
    flags = ReviewFlag.objects.filter(intake_file=intake_file).select_related("dispute")[:200]
    return render(request, template, {"file": intake_file, "flags": flags})


@login_required
@permission_required(READ, raise_exception=True)
def unmatched(request):
    show = request.GET.get("show") == "resolved"
    records = (
        UnmatchedOriginator.objects.filter(resolved_at__isnull=not show)
        .select_related("dispute", "intake_file", "resolved_by", "resolved_client")
        .order_by("-resolved_at" if show else "created_at", "id")
    )
    page = Paginator(records, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "intake/unmatched.html",
        {
            "page": page,
            "show_resolved": show,
            "form": MatchForm(),
            "may_resolve": request.user.has_perm(IMPORT),
        },
    )


@require_POST
@login_required
@permission_required(IMPORT, raise_exception=True)
def match(request, pk):
    record = get_object_or_404(UnmatchedOriginator, pk=pk)
    form = MatchForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a client for the dispute.")
        return redirect("intake:unmatched")
    try:
        services.match_originator(
            unmatched_id=record.pk,
            client=form.cleaned_data["client"],
            actor=request.user,
            remember=form.cleaned_data["remember"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"Dispute {record.dispute.case_id} now belongs to {form.cleaned_data['client']}.",
        )
    return redirect("intake:unmatched")


@login_required
@permission_required(READ, raise_exception=True)
def notices(request):
    rows = ChangeNotice.objects.select_related("client", "intake_file").defer(
        "intake_file__content"
    )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "intake/notices.html", {"page": page})
