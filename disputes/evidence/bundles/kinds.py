"""How bundle events read on the dispute's timeline."""

from disputes.history import Described, register_kind

from .preflight import megabytes


def _size(payload) -> str:
    pages = payload.get("pages") or 0
    return f"{megabytes(payload.get('size') or 0)}, {pages} page{'s' if pages != 1 else ''}"


def describe_rendered(event, dispute) -> Described:
    payload = event.payload
    number = payload.get("bundle_version")
    if payload.get("failed"):
        return Described(
            title=f"Bundle version {number} could not be rendered", body=payload["failed"]
        )
    verdict = payload.get("verdict") or []
    return Described(
        title=f"Bundle version {number} rendered",
        body=" ".join(verdict),
        facts=(
            ("Channel", payload.get("channel", "")),
            ("Size", _size(payload)),
            ("Preflight", "Fits" if payload.get("fits") else "Does not fit"),
            ("SHA-256", payload.get("sha256", "")),
        ),
    )


def describe_submitted(event, dispute) -> Described:
    payload = event.payload
    return Described(
        title=f"Bundle version {payload.get('bundle_version')} submitted",
        facts=(
            ("File", payload.get("file_name", "")),
            ("Channel", payload.get("channel", "")),
            ("Size", _size(payload)),
            ("SHA-256", payload.get("sha256", "")),
        ),
    )


def describe_channel(event, dispute) -> Described:
    payload = event.payload
    return Described(
        title="Bundle channel changed",
        changes=(f"Channel: {payload.get('from', '')} → {payload.get('to', '')}",),
    )


def describe_order(event, dispute) -> Described:
    order = event.payload.get("order") or []
    return Described(
        title="Bundle items reordered",
        body=" · ".join(f"{n}. {name}" for n, name in enumerate(order, start=1)),
    )


register_kind("bundle_rendered", "Bundle rendered", describe=describe_rendered)
register_kind("bundle_submitted", "Bundle submitted", describe=describe_submitted)
register_kind("bundle_channel_changed", "Bundle channel changed", describe=describe_channel)
register_kind("bundle_items_ordered", "Bundle items reordered", describe=describe_order)
