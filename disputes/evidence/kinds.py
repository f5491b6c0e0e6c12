"""The evidence event kinds and how each reads on the dispute's timeline."""

from disputes.history import Described, register_kind
from disputes.history.kinds import day


def _size(value) -> str:
    try:
        size = int(value)
    except (TypeError, ValueError):
        return ""
    if size < 1000:
        return f"{size} bytes"
    if size < 1_000_000:
        return f"{size / 1000:.0f} KB"
    return f"{size / 1_000_000:.1f} MB"


def _kind_label(key: str) -> str:
    from calendar_rules.rules.evidence import evidence_table

    kind = evidence_table().kinds.get(key)
    return kind.label if kind else (key or "").replace("_", " ").capitalize()


def describe_added(event, dispute) -> Described:
    p = event.payload
    facts = [("Kind", _kind_label(p.get("kind", ""))), ("Type", p.get("type_label", ""))]
    if p.get("pages"):
        facts.append(("Pages", str(p["pages"])))
    facts.append(("Size", _size(p.get("size"))))
    if p.get("on_behalf_of_name"):
        facts.append(("From", f"{p['on_behalf_of_name']} (client)"))
    if p.get("duplicate_of_name"):
        facts.append(("Duplicate of", p["duplicate_of_name"]))
    facts.append(("SHA-256", (p.get("sha256") or "")[:16] + "…"))
    return Described(
        title=f"Evidence added: {p.get('file_name', '')}",
        body=p.get("description", ""),
        facts=tuple(f for f in facts if f[1]),
    )


def describe_withdrawn(event, dispute) -> Described:
    p = event.payload
    return Described(
        title=f"Evidence withdrawn: {p.get('file_name', '')}",
        body=p.get("reason", ""),
        facts=(("Kind", _kind_label(p.get("kind", ""))),),
    )


def _kinds_text(keys) -> str:
    return ", ".join(_kind_label(k) for k in keys or ())


def describe_requested(event, dispute) -> Described:
    p = event.payload
    facts = [("Asked", p.get("recipient_name", "")), ("Items", _kinds_text(p.get("kinds")))]
    facts.append(("Due", day(p.get("due_on"))))
    changes = ()
    if p.get("old_client_evidence_due") != p.get("due_on"):
        changes = (
            f"Client evidence due: {day(p.get('old_client_evidence_due'))} → "
            f"{day(event.client_evidence_due)}",
        )
    return Described(
        title="Evidence requested",
        body=p.get("message", ""),
        changes=changes,
        facts=tuple(f for f in facts if f[1]),
    )


def _closed(title):
    def describe(event, dispute) -> Described:
        p = event.payload
        changes = ()
        if p.get("old_client_evidence_due") != (
            event.client_evidence_due.isoformat() if event.client_evidence_due else None
        ):
            changes = (
                f"Client evidence due: {day(p.get('old_client_evidence_due'))} → "
                f"{day(event.client_evidence_due)}",
            )
        facts = [("Request", f"to {p.get('recipient_name', '')}, due {day(p.get('due_on'))}")]
        if p.get("files"):
            facts.append(("Files received", str(p["files"])))
        return Described(
            title=title, body=p.get("comment", ""), changes=changes, facts=tuple(facts)
        )

    return describe


def describe_opened(event, dispute) -> Described:
    p = event.payload
    return Described(
        title="Client opened the upload link",
        facts=(("Request", f"to {p.get('recipient_name', '')}, due {day(p.get('due_on'))}"),),
    )


def describe_override(event, dispute) -> Described:
    p = event.payload
    return Described(
        title="Evidence checklist overridden",
        body=p.get("reason", ""),
        facts=(("Missing", _kinds_text(p.get("missing"))),),
    )


def describe_letter(event, dispute) -> Described:
    from .letters import FAMILIES

    p = event.payload
    family = FAMILIES.get(p.get("family", ""), p.get("family", ""))
    return Described(
        title=f"Rebuttal letter saved (version {p.get('version')})",
        facts=(("Length", f"{p.get('chars', 0)} characters"), ("Template", family)),
    )


register_kind("evidence_added", "Evidence added", describe=describe_added)
register_kind("evidence_withdrawn", "Evidence withdrawn", describe=describe_withdrawn)
register_kind("evidence_requested", "Evidence requested", describe=describe_requested)
register_kind("evidence_request_opened", "Upload link opened", describe=describe_opened)
register_kind(
    "evidence_request_answered", "Evidence request answered", describe=_closed("Request answered")
)
register_kind(
    "evidence_request_cancelled",
    "Evidence request cancelled",
    describe=_closed("Request cancelled"),
)
register_kind(
    "evidence_request_expired",
    "Evidence request expired",
    describe=_closed("Request expired: the upload link lapsed"),
    system_only=True,
)
register_kind("checklist_overridden", "Checklist overridden", describe=describe_override)
register_kind("rebuttal_letter_saved", "Rebuttal letter saved", describe=describe_letter)
