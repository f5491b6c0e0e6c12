"""The bulk writers' linking (``chain.link_for_copy``) gives the very hashes ``chain.link``
gives, and the payload text it keeps for COPY is the payload's JSON."""

import json
from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from disputes.history import chain

SECRET = b"test-key"

payloads = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
).map(lambda value: {"value": value})


def row(payload, *, seq=1, rule="NACHA R01 return"):
    return {
        "dispute_id": 7,
        "seq": seq,
        "kind": "imported",
        "actor_id": None,
        "system_actor": "NACHA import",
        "created_at": datetime(2026, 12, 1, 12, 30, tzinfo=UTC),
        "payload": payload,
        "stage": "return",
        "state": "new",
        "outcome": "",
        "assignee_id": None,
        "version": 1,
        "network_due": date(2026, 12, 4),
        "internal_due": date(2026, 12, 3),
        "client_evidence_due": None,
        "deadline_rule": rule,
    }


@given(payloads, st.text())
def test_link_for_copy_hashes_as_link_does(payload, rule):
    plain = [row(payload, rule=rule), row({"file": "RET.ach", "line": 4}, seq=2, rule=rule)]
    bulk = [dict(r) for r in plain]
    assert chain.link_for_copy(bulk, "", SECRET) == chain.link(plain, "", SECRET)
    assert [r["row_hash"] for r in bulk] == [r["row_hash"] for r in plain]
    assert [json.loads(r["payload_json"]) for r in bulk] == [r["payload"] for r in plain]
