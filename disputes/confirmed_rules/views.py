"""The page where an ops lead confirms a rule row or sets its window (/rules/confirm/<key>/)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from calendar_rules import presentation, rules
from calendar_rules.deadlines import stage_words

from ..models import business_today
from . import services
from .forms import ConfirmRuleForm
from .models import RuleConfirmation


@login_required
def confirm(request, rule_key):
    try:
        rule = services.rule_of(rule_key)
    except ValidationError:
        raise Http404("No such rule.") from None
    may_confirm = request.user.has_perm("disputes.confirm_rules")
    if request.method == "POST":
        if not may_confirm:
            raise PermissionDenied("Only an ops lead may confirm a rule.")
        form = ConfirmRuleForm(request.POST, table_days=rule.days)
        if form.is_valid():
            try:
                data = form.cleaned_data
                row = services.confirm_rule(
                    rule_key=rule_key,
                    actor=request.user,
                    source_document=data["source_document"],
                    effective_from=data["effective_from"],
                    days=data["days"],
                    comment=data["comment"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _done_message(row))
                return redirect(reverse("calendar_rules:confirm", args=[rule_key]))
    else:
        form = ConfirmRuleForm(table_days=rule.days, initial={"effective_from": business_today()})
    table = rules.network_table(rule.network)
    context = {
        "rule": rule,
        "title": f"{table.label} {rule.code} {stage_words(rule.stage)}",
        "window": presentation.window_text(rule),
        "anchor": table.anchors[rule.anchor_event],
        "confidence_words": presentation.confidence_words(rule.confidence),
        "doubt": presentation.DOUBTS.get(rule.confidence, ""),
        "anchor_id": presentation.anchor_id(rule.network, rule.code),
        "confirmations": RuleConfirmation.objects.filter(rule_key=rule_key).select_related(
            "confirmed_by"
        ),
        "form": form,
        "may_confirm": may_confirm,
    }
    return render(request, "rules/confirm.html", context, status=422 if form.errors else 200)


def _done_message(row: RuleConfirmation) -> str:
    what = f"window set to {row.days} days" if row.is_override else "window confirmed"
    moved = (
        "no open dispute's date moved"
        if not row.moved
        else f"{row.moved} open dispute{'s' if row.moved != 1 else ''} moved"
    )
    when = f"{row.effective_from:%b} {row.effective_from.day}, {row.effective_from.year}"
    return f"Recorded: {what} from {when}. Recomputed {row.checked} open disputes: {moved}."
