"""The bundle panel of the dispute page: ``{% load bundle_tags %}{% bundle_panel %}``."""

from django import template

from disputes.evidence.bundles.preflight import megabytes
from disputes.evidence.bundles.views import panel_context

register = template.Library()


@register.inclusion_tag("bundles/_panel.html", takes_context=True)
def bundle_panel(context):
    return {
        **panel_context(context["request"], context["dispute"]),
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def mb(size):
    return megabytes(size or 0)


@register.filter
def confidence_in_words(confidence: str) -> str:
    """How a channel's limits are known, as a person reads it ("Not confirmed by a source")."""
    from calendar_rules.presentation import confidence_words

    return confidence_words(confidence)
