from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render

from ..models import Dispute


@login_required
@permission_required("disputes.view_dispute", raise_exception=True)
def queue(request):
    disputes = (
        Dispute.objects.open()
        .select_related("client", "assignee")
        .order_by("internal_due", "id")[:100]
    )
    return render(request, "disputes/queue.html", {"disputes": disputes})
