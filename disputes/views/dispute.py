from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, render

from ..models import Dispute


@login_required
@permission_required("disputes.view_dispute", raise_exception=True)
def detail(request, pk):
    dispute = get_object_or_404(Dispute.objects.select_related("client", "transaction"), pk=pk)
    return render(request, "disputes/detail.html", {"dispute": dispute})


@login_required
@permission_required("disputes.view_dispute", raise_exception=True)
def calendar(request):
    return render(request, "disputes/calendar.html", {})
