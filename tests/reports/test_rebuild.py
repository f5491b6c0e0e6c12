"""From scratch on PostgreSQL the summaries are derived in SQL (``disputes.reports.rebuild``);
the Python path (``fact_of``, the contributions, ``filings.INSERT_FILINGS``) is the definition.
On a seeded book both give the same rows: into empty summaries, over summaries already right,
and over summaries gone wrong."""

from decimal import Decimal

import pytest
from django.db import connection

from disputes import demo
from disputes.models import business_today
from disputes.reports import summary
from disputes.reports.facts import KEY, VALUES
from disputes.reports.models import ReportCase, ReportDay, ReportFiling
from disputes.reports.rebuild import FACT_COLUMNS, FILING_COLUMNS
from tests.factories import act, open_dispute

pytestmark = pytest.mark.django_db


def _rows():
    return (
        sorted(ReportCase.objects.values_list(*FACT_COLUMNS)),
        sorted(ReportFiling.objects.values_list(*FILING_COLUMNS)),
        sorted(ReportDay.objects.values_list(*KEY, *VALUES)),
    )


@pytest.fixture
def in_python(monkeypatch):
    """The summaries of a seeded book as the Python path derives them from scratch."""
    demo.seed(disputes=300, seed_value=5, chunk=300, workers=1)
    monkeypatch.setattr(summary, "IN_SQL_FROM_SCRATCH", False)
    done = summary.refresh(full=True)
    monkeypatch.setattr(summary, "IN_SQL_FROM_SCRATCH", True)
    return done, _rows()


def test_the_book_counts_in_every_measure(in_python):
    _done, (facts, filings, days) = in_python
    assert len(facts) >= 300 and len(filings) > 50
    measures = {row[0] for row in days}
    assert measures == {"received", "received_client", "on_period", "on_period_client",
                        "nacha_return", "open", "closed", "to_first_touch", "to_submission",
                        "to_decision", "filing"}  # fmt: skip
    assert {row[KEY.index("reason_code")] for row in days if row[0] == "nacha_return"} == {
        "unauthorized",
        "administrative",
        "other",
    }


def test_sql_into_empty_summaries_derives_the_same_rows(in_python):
    done, rows = in_python
    summary._empty()
    assert summary.refresh(full=True) == done
    assert _rows() == rows


def test_sql_over_right_summaries_derives_the_same_rows(in_python):
    done, rows = in_python
    assert summary.refresh(full=True) == done
    assert _rows() == rows


def test_sql_over_wrong_summaries_puts_them_right(in_python):
    done, rows = in_python
    first = ReportCase.objects.order_by("pk")
    first.filter(pk__in=first.values("pk")[:5]).update(amount=Decimal("0.01"), to_decision=None)
    ReportCase.objects.filter(pk__in=first.values("pk")[5:8]).delete()
    ReportFiling.objects.filter(pk__in=ReportFiling.objects.values("pk")[:3]).delete()
    ReportDay.objects.filter(pk__in=ReportDay.objects.values("pk")[:9]).update(count=7)
    ReportDay.objects.create(measure="received", day="2020-01-01", network="visa", count=1)
    assert summary.refresh(full=True) == done
    assert _rows() == rows


def test_an_incremental_refresh_after_the_sql_one_moves_the_sums_exactly(
    in_python, lead, monkeypatch
):
    """After a SQL derivation the next refresh moves the sums the Python way: they stay the sums
    of the facts and filings, as the Python path derives them from scratch."""
    summary._empty()
    summary.refresh(full=True)
    dispute = open_dispute(network="mastercard", code="4853")
    act(dispute_id=dispute.pk, name="accept_liability", actor=lead, on=business_today())
    assert summary.refresh().disputes == 1
    incremental = _rows()
    monkeypatch.setattr(summary, "IN_SQL_FROM_SCRATCH", False)
    summary.refresh(full=True)
    assert _rows() == incremental


def test_a_refresh_inside_a_longer_transaction_leaves_its_settings_as_they_were():
    """The derivation skips foreign-key checks and plans for whole tables; the transaction
    around it (a test's, or a caller's) checks and plans as before once it is done."""
    open_dispute()
    names = ["session_replication_role", "work_mem", "enable_nestloop", "jit"]
    with connection.cursor() as cursor:
        settings_now = _settings(cursor, names)
        assert summary.refresh(full=True).disputes == 1
        assert _settings(cursor, names) == settings_now


def _settings(cursor, names):
    cursor.execute(f"SELECT {', '.join(['current_setting(%s)'] * len(names))}", names)
    return cursor.fetchone()


@pytest.mark.django_db(transaction=True)
def test_seed_demo_derives_beside_the_writes_and_ends_exact(capsys):
    """``seed_demo`` derives the summaries from scratch on a thread of its own while evidence,
    bundles, imports and the sweeps write events (committed, so the thread's connection sees
    the load), then refreshes what those touched: the same rows as one derivation at the end."""
    from django.core.management import call_command

    call_command("seed_demo", disputes=300, seed=3)
    out = capsys.readouterr().out
    derived = int(out.split("derived from scratch up to event ")[1].split(" ")[0].replace(",", ""))
    brought = out.split("brought up to event ")[1]
    final, since = (
        int(brought.split(" ")[0].replace(",", "")),
        int(brought.split("(")[1].split(" ")[0]),
    )
    assert derived < final and since > 0  # events came after the derivation, and were taken in
    seeded = _rows()
    summary._empty()
    summary.refresh(full=True)
    assert _rows() == seeded
