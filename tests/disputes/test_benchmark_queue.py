"""The queue benchmark runs end to end on a small seeded set: its scenarios, and the write-cost
variants (indexes dropped, or rebuilt narrow, inside transactions that roll back)."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from disputes import demo
from disputes.management.commands import _queue_write_cost as write_cost


def _indexes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'disputes_dispute'"
        )
        return dict(cursor.fetchall())


@pytest.fixture
def seeded(db):
    demo.seed(disputes=120, seed_value=7, workers=1)


def test_the_scenarios_print_their_figures(seeded):
    out = StringIO()
    call_command("benchmark_queue", "--runs", "1", "--only", "view:", stdout=out)
    text = out.getvalue()
    assert "view: Overdue" in text and "view: Submitted, awaiting decision" in text
    assert re.search(r"\d+ scenarios; worst p95 [\d.]+ ms", text)
    assert "over 12 queries: none" in text


def test_the_write_cost_variants_leave_every_index_as_it_was(seeded):
    before = _indexes()
    assert all("INCLUDE" in before[name] for name in write_cost.WIDENED_OPEN_INDEXES)
    out = StringIO()
    call_command("benchmark_queue", "--write-cost", "--rounds", "1", "--batch", "2", stdout=out)
    text = out.getvalue()
    for variant in ("every index", "as before (no closed, narrow open)"):
        assert re.search(rf"recompute\s+{re.escape(variant)}\s+[\d.]+", text), text
    assert _indexes() == before
