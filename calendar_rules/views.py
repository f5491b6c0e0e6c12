"""The /rules/ page: every network, code, stage and window, with its source and confidence."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from . import presentation, rules


@login_required
def rule_table(request):
    """The rule tables (optionally one network via ``?network=``) and the Fed closures of this
    year and next."""
    network = request.GET.get("network", "")
    if network not in rules.NETWORKS:
        network = ""
    this_year = timezone.localdate().year
    context = {
        "network": network,
        "networks": [(name, rules.network_table(name).label) for name in rules.NETWORKS],
        "sections": presentation.sections(network or None),
        "rules_version": rules.rules_version(),
        "conventions": presentation.CONVENTIONS,
        "closure_years": [
            (year, presentation.closures(year)) for year in (this_year, this_year + 1)
        ],
    }
    return render(request, "calendar_rules/rule_table.html", context)
