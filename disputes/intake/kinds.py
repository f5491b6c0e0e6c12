"""The intake's event kinds and how they read on a dispute's timeline."""

from ..history import Described, register_kind
from ..history.kinds import day

ENTRY_WORDS = {
    "return": "Return",
    "dishonored": "Dishonored return",
    "contested": "Contested dishonored return",
    "card": "Dispute notification",
}


def describe_imported(event, dispute) -> Described:
    payload = event.payload
    what = ENTRY_WORDS.get(payload.get("entry"), "Entry")
    facts = [("File", f"{payload.get('file', '')}, line {payload.get('line', '?')}")]
    if payload.get("code"):
        facts.append(("Code", payload["code"]))
    if payload.get("return_reason"):
        facts.append(("Return answered", payload["return_reason"]))
    if payload.get("company_id"):
        name = payload.get("company_name") or ""
        facts.append(("Company identification", f"{payload['company_id']} {name}".strip()))
    if payload.get("sec_code"):
        facts.append(("SEC code", payload["sec_code"]))
    if payload.get("settled_on"):
        facts.append(("Settled", day(payload["settled_on"])))
    if payload.get("merchant_id"):
        name = payload.get("merchant_name") or ""
        facts.append(("Merchant", f"{payload['merchant_id']} {name}".strip()))
    if payload.get("source"):
        facts.append(("Report", payload["source"]))
    if payload.get("entry") in ("return",) and not payload.get("original_known", True):
        facts.append(("Original entry", "Not on file: timeliness not judged"))
    body = []
    if payload.get("unmatched"):
        body.append(
            "No client holds this identification: choose the client in Unmatched originator."
        )
    if payload.get("flag"):
        body.append(f"Flagged for review: {payload['flag']}")
    return Described(title=f"{what} imported", body=" ".join(body), facts=tuple(facts))


def describe_originator_matched(event, dispute) -> Described:
    payload = event.payload
    return Described(
        title=f"Client chosen: {payload.get('client_name', '')}",
        facts=(
            (payload.get("id_kind", "Identification"), payload.get("identifier", "")),
            *((("Name in the file", payload["name"]),) if payload.get("name") else ()),
        ),
    )


register_kind("imported", "Imported", describe=describe_imported)
register_kind("originator_matched", "Client chosen", describe=describe_originator_matched)
