"""Template filters shared by the dispute pages."""

from decimal import Decimal

from django import template
from django.utils.html import format_html

register = template.Library()

# ISO 4217 minor units where they differ from 2.
MINOR_UNITS = {
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "CLP": 0,
    "ISK": 0,
    "BHD": 3,
    "KWD": 3,
    "OMR": 3,
    "JOD": 3,
    "TND": 3,
}
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$"}


@register.filter
def money(amount, currency="USD"):
    """12345.5, "USD" → "$12,345.50"; unknown currencies print their code."""
    if amount is None or amount == "":
        return "—"
    places = MINOR_UNITS.get(currency, 2)
    quantum = Decimal(1).scaleb(-places)
    text = f"{Decimal(amount).quantize(quantum):,.{places}f}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


@register.simple_tag
def urgency(dispute, today):
    """The dispute's urgency as a coloured label with its words (never colour alone)."""
    level = dispute.urgency(today)
    return format_html('<span class="urgency urgency-{}">{}</span>', level.level, level.label)


@register.filter
def role_label(group_name):
    """ "ops_lead" → "Ops lead": role names in words."""
    from ..roles import ROLE_LABELS

    label = ROLE_LABELS.get(group_name, str(group_name).replace("_", " ").capitalize())
    return label.split(" (")[0]


@register.filter
def lookup(mapping, key):
    """``mapping[key]`` in a template (None when absent)."""
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def person(user):
    """A user's display name: full name, else the login."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


@register.filter
def stage_words(stage):
    """ "pre_arbitration_response" → "pre-arbitration response"."""
    from calendar_rules.deadlines import stage_words as words

    return words(str(stage))
