"""The /rules/ page: every network, code, stage and window, with its source and confidence,
and what an ops lead confirmed for Astra."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from . import cutoffs, presentation, rules


@login_required
def rule_table(request):
    """The rule tables (optionally one network via ``?network=``, codes matching ``?q=``),
    the processor and sponsor-bank cut-offs, and the Fed closures of this year and next."""
    from disputes.confirmed_rules.selectors import ConfirmationIndex

    network = request.GET.get("network", "")
    if network not in rules.NETWORKS:
        network = ""
    query = request.GET.get("q", "")[:40]
    this_year = timezone.localdate().year
    sections = presentation.sections(network or None, query)
    confirmations = ConfirmationIndex.load()
    context = {
        "network": network,
        "query": query,
        "networks": [(name, rules.network_table(name).label) for name in rules.NETWORKS],
        "sections": sections,
        "code_index": [(s, [row for row in s.rows if row.first_of_code]) for s in sections],
        "confirmed": {key: confirmations.latest(key) for key in confirmations},
        "may_confirm": request.user.has_perm("disputes.confirm_rules"),
        "cutoffs": cutoffs.cutoffs(),
        "rules_version": rules.rules_version(),
        "conventions": presentation.CONVENTIONS,
        "closure_years": [
            (year, presentation.closures(year)) for year in (this_year, this_year + 1)
        ],
    }
    return render(request, "calendar_rules/rule_table.html", context)
