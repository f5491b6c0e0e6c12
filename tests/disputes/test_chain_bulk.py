"""The bulk writers' linking (``chain.link_for_copy``) gives the very hashes ``chain.link``
gives, and the payload text it keeps for COPY is the payload's JSON."""

import json
from datetime import UTC, date, datetime

import pytest
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


members = st.fixed_dictionaries(
    {
        "dispute_id": st.integers(min_value=1, max_value=2**63),
        "seq": st.integers(min_value=1, max_value=10**6),
        "kind": st.text(),
        "actor_id": st.none() | st.integers() | st.booleans(),
        "system_actor": st.text(),
        "created_at": st.datetimes(timezones=st.timezones()) | st.text(),
        "stage": st.text(),
        "assignee_id": st.none() | st.integers() | st.floats(allow_nan=False),
        "network_due": st.none() | st.dates() | st.datetimes(timezones=st.timezones()),
        "client_evidence_due": st.none() | st.dates(),
        "deadline_rule": st.text() | st.integers(),
    }
)


@given(payloads, members)
def test_the_bulk_writers_content_is_the_verifiers_content(payload, values):
    """Whatever the column values (non-ASCII or quoted text, ints, None, booleans, floats,
    dates and times in any zone), ``content_and_payload`` gives the bytes ``content`` gives."""
    values = {**row(payload), **values}
    assert chain.content_and_payload(values) == (
        chain.content(values),
        json.dumps(payload, sort_keys=True, separators=(",", ":")),
    )


@given(payloads, st.text(), st.datetimes(timezones=st.timezones()))
def test_link_canonical_hashes_as_link_does(payload, rule, moment):
    """A row in canonical form (columns in their sorted order, the time as UTC ISO text,
    dates as they are) links to the very hashes ``link`` gives the same event."""
    plain = [row(payload, rule=rule), row({"file": "RET.ach", "line": 4}, seq=2, rule=rule)]
    plain[0]["created_at"] = moment
    canonical = [
        {
            name: r[name].astimezone(UTC).isoformat() if name == "created_at" else r[name]
            for name in chain.CANONICAL_ORDER
        }
        for r in plain
    ]
    assert chain.link_canonical(canonical, "", SECRET) == chain.link(plain, "", SECRET)
    assert [r["row_hash"] for r in canonical] == [r["row_hash"] for r in plain]
    assert [json.loads(r["payload_json"]) for r in canonical] == [r["payload"] for r in plain]


def test_link_canonical_refuses_a_row_out_of_order_or_with_a_time_not_in_text():
    event = {name: row({})[name] for name in chain.CANONICAL_ORDER}
    with pytest.raises(ValueError, match="canonical"):
        chain.link_canonical([event], "", SECRET)  # created_at still a datetime
    event["created_at"] = event["created_at"].isoformat()
    with pytest.raises(ValueError, match="canonical"):
        chain.link_canonical([dict(reversed(event.items()))], "", SECRET)
