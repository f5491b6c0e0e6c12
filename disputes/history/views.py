"""The case-history page for compliance and ops leads (permission ``disputes.verify_audit``):
run the verification, see the result in words, write a checkpoint."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from ..detail_selectors import display_name
from . import checkpoint
from .runs import AuditRun, request_run

RECENT = 10
ASKED = {
    "verify": "Verification queued: it runs on a worker; this page shows the result when done.",
    "checkpoint": "Checkpoint queued: it runs on a worker; this page shows it when written.",
}


def _latest_checkpoint_name() -> str:
    """The newest checkpoint's file name, without reading it (that is the verifier's job)."""
    try:
        _dirs, files = checkpoint._storage().listdir("")
    except (FileNotFoundError, OSError):
        return ""
    names = sorted(f for f in files if f.startswith(checkpoint.PREFIX))
    return names[-1] if names else ""


@login_required
@permission_required("disputes.verify_audit", raise_exception=True)
@require_http_methods(["GET", "POST"])
def verify_page(request):
    if request.method == "POST":
        kind = request.POST.get("run", "")
        if kind in ASKED:
            request_run(kind=kind, actor=request.user)
            messages.info(request, ASKED[kind])
        else:
            messages.error(request, "Choose “Verify now” or “Write a checkpoint”.")
        return redirect("audit:verify")
    runs = list(AuditRun.objects.select_related("requested_by")[:RECENT])
    latest_verify = next((r for r in runs if r.kind == AuditRun.Kind.VERIFY), None)
    context = {
        "runs": [(run, display_name(run.requested_by)) for run in runs],
        "latest": latest_verify,
        "pending": any(not run.done for run in runs),
        "checkpoint_name": _latest_checkpoint_name(),
    }
    return render(request, "history/verify.html", context)
