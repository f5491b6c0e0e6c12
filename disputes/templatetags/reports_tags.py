"""How report figures read: rates as percentages, changes with their sign."""

from django import template

from ..reports.charts import percent

register = template.Library()


@register.filter
def pct(value, places=1):
    return percent(value, int(places))


@register.filter
def change(figure):
    """A week-over-week change: "+2.5 pts" for rates, "+12" for counts, "—" when undefined."""
    delta = figure["delta"]
    if delta is None:
        return "—"
    if figure["kind"] == "rate":
        return f"{delta * 100:+.1f} pts"
    return f"{delta:+,}"


@register.filter
def get(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None
