"""Charts as server-rendered SVG: no script, no CDN, readable without colour (every bar has its
number in a <title> and the table beside it has the figures)."""

from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import mark_safe

COLOURS = {
    "won": "#1a7f4b",
    "lost": "#b42318",
    "accepted": "#8a6d00",
    "expired": "#6b7280",
    "withdrawn": "#2f6fb0",
}
LABELS = {
    "won": "Won",
    "lost": "Lost",
    "accepted": "Accepted",
    "expired": "Expired",
    "withdrawn": "Withdrawn",
}


def weekly_outcomes(series: list[dict], *, width=720, height=220) -> str:
    """Stacked bars of closings per week by outcome, with the win rate as a line."""
    if not series:
        return ""
    left, right, top, bottom = 44, 44, 12, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(s["closed"] for s in series) or 1
    step = plot_w / len(series)
    bar = max(2.0, step * 0.7)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="wk-title"><title id="wk-title">Disputes closed per week by outcome, '
        f"with the win rate</title>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#98a2b3"/>',
        f'<text x="{left - 6}" y="{top + 8}" text-anchor="end" class="axis">{peak:,}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" class="axis">0</text>',
        f'<text x="{width - right + 6}" y="{top + 8}" class="axis">100%</text>',
        f'<text x="{width - right + 6}" y="{top + plot_h}" class="axis">0%</text>',
    ]
    points = []
    for i, s in enumerate(series):
        x = left + i * step + (step - bar) / 2
        y = top + plot_h
        for outcome in COLOURS:
            n = s["counts"].get(outcome, 0)
            if not n:
                continue
            h = plot_h * n / peak
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{COLOURS[outcome]}"><title>Week of {s["week"]:%b %d}: '
                f"{n:,} {LABELS[outcome].lower()}</title></rect>"
            )
        if s["win_rate"] is not None:
            points.append((x + bar / 2, top + plot_h * (1 - float(s["win_rate"]))))
        if i % max(1, len(series) // 8) == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - 14}" text-anchor="middle" '
                f'class="axis">{s["week"]:%b %d}</text>'
            )
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="#111827" stroke-width="2">'
            "<title>Win rate per week</title></polyline>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def legend() -> str:
    items = "".join(
        f'<li><svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" '
        f'fill="{c}"/></svg> {LABELS[k]}</li>'
        for k, c in COLOURS.items()
    )
    return mark_safe(
        f'<ul class="chart-legend">{items}<li><svg width="14" height="10" aria-hidden="true">'
        '<line x1="0" y1="5" x2="14" y2="5" stroke="#111827" stroke-width="2"/></svg> '
        "Win rate</li></ul>"
    )


def horizontal_bars(rows: list[tuple[str, int]], *, width=360, title="") -> str:
    """One bar per row, labelled with its name and number."""
    if not rows:
        return ""
    label_w, row_h = 110, 22
    height = row_h * len(rows) + 8
    peak = max(n for _l, n in rows) or 1
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}">'
    ]
    for i, (label, n) in enumerate(rows):
        y = 4 + i * row_h
        w = (width - label_w - 60) * n / peak
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" class="axis">'
            f"{escape(label)}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" fill="#2f6fb0">'
            f"<title>{escape(label)}: {n:,}</title></rect>"
            f'<text x="{label_w + w + 4:.1f}" y="{y + 14}" class="axis">{n:,}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def percent(value: Decimal | None, places: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.{places}f}%"
