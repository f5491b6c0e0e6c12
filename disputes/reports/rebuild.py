"""The summaries derived from scratch on PostgreSQL, in SQL: ``refresh`` from watermark 0.

The incremental refresh computes a dispute's ``Fact`` and every contribution in Python, a few
thousand disputes at a time (``disputes.reports.facts``); from scratch that is a million
disputes and as many filings, minutes of Python. Here the same rows come from three queries
over whole tables, in the refresh's transaction: the facts from the disputes, the filings from
the case history, and the daily sums from both (``_replace`` writes them).

Python stays the definition. These statements mirror ``fact_of``, ``fact_contributions``,
``filing_contributions`` and ``filings.INSERT_FILINGS`` clause by clause, take their data from
the same place (``LIVE_COLUMNS``, the Fed calendar's day numbers, ``RETURN_CLASSES``), and a test
derives a seeded book both ways and compares every row (tests/reports/test_rebuild.py)."""

from contextlib import contextmanager

from django.conf import settings
from django.db import connection

from ..models import Dispute
from .facts import KEY, LIVE_COLUMNS, SPEEDS, VALUES, Fact, _ordinal_of
from .models import ReportCase, ReportDay, ReportFiling

# Every statement here reads or writes whole tables: the sorts and hashes over every event fit
# in memory, hashing or merging beats a million lookups by index however few rows the planner
# expects from a window, and compiling the statements (JIT) costs more than it saves.
PLANNER = {"work_mem": "1GB", "maintenance_work_mem": "1GB", "enable_nestloop": "off",
           "jit": "off"}  # fmt: skip
FACT_COLUMNS = ("dispute_id", *Fact._fields[1:])
FILING_COLUMNS = ("event_id", "dispute_id", "network", "client_id", "answered_stage", "filed_stage",
                  "stage_started_on", "filed_on", "internal_due", "network_due")  # fmt: skip

# Fed banking days between two dates as ``banking_days``: the difference of their numbers in
# the calendar (an array indexed from its first day), NULL when either lies outside it.
SPAN = "(%(fed)s::int[])[{end} - %(fed_first)s::date + 1] - (%(fed)s::int[])[{start} - %(fed_first)s::date + 1]"  # noqa: E501


def _span(moment_on: str) -> str:
    return SPAN.format(start="opened_on", end=moment_on)


def _ops_date(column: str) -> str:
    return f"({column} AT TIME ZONE %(zone)s)::date"


# fact_of: the FACT_COLUMNS of every dispute, from its LIVE_COLUMNS (each moment's ops date
# computed once: the time zone is the costly part).
FACTS = f"""
SELECT id, network, client_id, rail, transaction_type, reason_code, currency, amount,
    recovered_amount, outcome, state IS DISTINCT FROM 'closed', received_on, transaction_date,
    closed_on, {_span("touched_on")}, {_span("submitted_on")}, {_span("closed_on")}
FROM (
    SELECT *, {_ops_date("opened_at")} AS opened_on, {_ops_date("first_touched_at")} AS touched_on,
        {_ops_date("submitted_at")} AS submitted_on, {_ops_date("closed_at")} AS closed_on
    FROM ({{live}}) AS live (id, network, client_id, rail, transaction_type, reason_code,
        currency, amount, recovered_amount, outcome, state, received_on, transaction_date,
        opened_at, first_touched_at, submitted_at, closed_at)
    OFFSET 0
) fact
"""

# INSERT_FILINGS over every event at once (the FILING_COLUMNS): one pass over the case history
# in each dispute's order instead of a search for each filing. A filing is a stage change that
# left the dispute submitted, with the event just before it (seq - 1) and the last stage start
# (the opening or a stage change) before it. A start's seq and day travel as one number,
# seq * 10^7 + the day's number since 0001-01-01, so the highest before the filing is the last
# start; the filing, a stage change itself, carries its own day the same way.
ALL_FILINGS = """
SELECT e.id, e.dispute_id, d.network, d.client_id, e.answered_stage, e.stage,
    DATE '0001-01-01' + mod(e.started, 10000000)::int,
    DATE '0001-01-01' + mod(e.start, 10000000)::int, e.internal_due, e.network_due
FROM (
    SELECT id, dispute_id, seq, stage, is_filing, start,
        last_value(seq) OVER before AS previous_seq,
        last_value(stage) OVER before AS answered_stage,
        last_value(internal_due) OVER before AS internal_due,
        last_value(network_due) OVER before AS network_due,
        max(start) OVER before AS started
    FROM (
        SELECT id, dispute_id, seq, stage, internal_due, network_due,
            kind = 'transition' AND state = 'submitted'
                AND payload->>'from_stage' <> stage AS is_filing,
            CASE WHEN kind = 'opened' OR (kind = 'transition' AND payload->>'from_stage' <> stage)
                THEN seq::bigint * 10000000
                    + ((created_at AT TIME ZONE %(zone)s)::date - DATE '0001-01-01')
            END AS start
        FROM disputes_caseevent
        OFFSET 0
    ) event
    WINDOW before AS (PARTITION BY dispute_id ORDER BY seq
                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
) e
JOIN disputes_dispute d ON d.id = e.dispute_id
WHERE e.is_filing AND e.id <= %(upto)s AND e.previous_seq = e.seq - 1 AND e.started IS NOT NULL
"""


# fact_contributions and filing_contributions, summed: every measure grouped by its key (the
# columns a measure leaves out keep the defaults of ``facts.key``). Every group counts at least
# one row, so every sum is a row (``apply`` creates none that are all zero).
SUMS = """
SELECT 'received', received_on, network, 0, rail, transaction_type, reason_code, '', '', '', -1,
    count(*), 0, 0, 0, 0, 0, 0
FROM disputes_reportcase GROUP BY received_on, network, rail, transaction_type, reason_code
UNION ALL
SELECT 'received_client', received_on, network, client_id, '', '', '', '', '', '', -1,
    count(*), 0, 0, 0, 0, 0, 0
FROM disputes_reportcase GROUP BY received_on, network, client_id
UNION ALL
SELECT 'on_period', transaction_date, network, 0, rail, transaction_type, reason_code, '', '',
    '', -1, count(*), 0, 0, 0, 0, 0, 0
FROM disputes_reportcase GROUP BY transaction_date, network, rail, transaction_type, reason_code
UNION ALL
SELECT 'on_period_client', transaction_date, network, client_id, '', '', '', '', '', '', -1,
    count(*), 0, 0, 0, 0, 0, 0
FROM disputes_reportcase GROUP BY transaction_date, network, client_id
UNION ALL
SELECT 'nacha_return', received_on, network, client_id, '', '', {return_class}, '', '', '', -1,
    count(*), 0, 0, 0, 0, 0, 0
FROM disputes_reportcase WHERE network = 'nacha'
GROUP BY received_on, network, client_id, {return_class}
UNION ALL
SELECT 'open', received_on, network, 0, '', '', '', '', '', '', -1, count(*), 0, 0, 0, 0, 0, 0
FROM disputes_reportcase WHERE is_open GROUP BY received_on, network
UNION ALL
SELECT 'closed', closed_on, network, 0, '', '', '', outcome, currency, '', -1, count(*),
    sum(amount), sum(coalesce(recovered_amount, 0)), 0, 0, 0, 0
FROM disputes_reportcase WHERE closed_on IS NOT NULL GROUP BY closed_on, network, outcome, currency
{speeds}
UNION ALL
SELECT 'filing', filed_on, network, 0, '', '', '', '', '', answered_stage, coalesce({span}, -1),
    count(*), 0, 0, count(internal_due), count(*) FILTER (WHERE filed_on <= internal_due),
    count(network_due), count(*) FILTER (WHERE filed_on <= network_due)
FROM disputes_reportfiling GROUP BY filed_on, network, answered_stage, coalesce({span}, -1)
"""
SPEED = """UNION ALL
SELECT '{measure}', closed_on, network, 0, '', '', '', '', '', '', {measure}, count(*), 0, 0, 0,
    0, 0, 0
FROM disputes_reportcase WHERE closed_on IS NOT NULL AND {measure} IS NOT NULL
GROUP BY closed_on, network, {measure}"""


def _return_class() -> str:
    """``return_class`` of ``reason_code``: the first class whose codes hold it, else "other"."""
    from .activity import RETURN_CLASSES

    whens = []
    for name, _label, codes, _threshold in RETURN_CLASSES:
        if codes:
            listed = ", ".join(f"'{code}'" for code in codes)
            whens.append(f"WHEN reason_code IN ({listed}) THEN '{name}'")
    return f"CASE {' '.join(whens)} ELSE 'other' END"


def derive(*, upto: int) -> tuple[int, int, int]:
    """Make the summaries exactly the facts of every dispute, the filings among events up to
    ``upto`` and their daily sums. Returns how many of each there are."""
    fed = _ordinal_of()
    params = {"zone": settings.OPS_TIME_ZONE, "upto": upto, "fed_first": min(fed),
              "fed": [fed[day] for day in sorted(fed)]}  # fmt: skip
    live, live_params = (
        Dispute.objects.order_by().values_list(*LIVE_COLUMNS).query.sql_with_params()
    )
    assert not live_params  # the columns of every dispute: no parameter to pass on
    sums = SUMS.format(
        return_class=_return_class(),
        speeds="\n".join(SPEED.format(measure=measure) for measure in SPEEDS),
        span=SPAN.format(start="stage_started_on", end="filed_on"),
    )
    with connection.cursor() as cursor:
        settings_for_load = dict(PLANNER)
        if _is_superuser(cursor):
            # Every row written references a dispute or an event read in this transaction, and
            # neither is ever deleted (the history is append-only and protects its dispute):
            # the foreign-key checks at commit, three million lookups, would prove nothing.
            settings_for_load["session_replication_role"] = "replica"
        with _set_local(cursor, settings_for_load):
            facts = _replace(cursor, ReportCase, FACT_COLUMNS, ("dispute_id",),
                             FACTS.format(live=live), params)  # fmt: skip
            filings = _replace(
                cursor, ReportFiling, FILING_COLUMNS, ("event_id",), ALL_FILINGS, params
            )
            days = _replace(cursor, ReportDay, KEY + VALUES, KEY, sums, params)
        return facts, filings, days


@contextmanager
def _set_local(cursor, values: dict):
    """Settings for the block, then back to what they were: a refresh run inside a longer
    transaction leaves it as it found it (foreign keys and triggers checked again)."""
    names = list(values)
    cursor.execute(f"SELECT {', '.join(['current_setting(%s)'] * len(names))}", names)
    before = cursor.fetchone()
    for name in names:
        cursor.execute("SELECT set_config(%s, %s, true)", [name, values[name]])
    yield
    for name, value in zip(names, before, strict=True):
        cursor.execute("SELECT set_config(%s, %s, true)", [name, value])


def _replace(cursor, model, columns, key, select: str, params) -> int:
    """Make the model's table hold exactly the rows ``select`` returns (``columns``, unique by
    ``key``); returns how many. Into an empty table they go at once, its secondary indexes built
    after them. Otherwise they go through a table of this transaction's own, and only the rows
    that differ are deleted and written: a full refresh that changes little writes little, and
    pages reading the summaries meanwhile read the old rows without waiting."""
    table, names = model._meta.db_table, ", ".join(columns)
    cursor.execute(f"SELECT EXISTS (SELECT FROM {table})")
    if not cursor.fetchone()[0]:
        indexes = _drop_secondary_indexes(cursor, table)
        cursor.execute(f"INSERT INTO {table} ({names}) {select}", params)
        written = cursor.rowcount
        for definition in indexes:
            cursor.execute(definition)
        return written
    values = [name for name in columns if name not in key]
    cursor.execute(f"CREATE TEMP TABLE report_rows ({names}) AS {select}", params)
    written = cursor.rowcount
    # The keys whose row is missing on either side or differs, found by one join.
    cursor.execute(
        f"CREATE TEMP TABLE report_stale AS SELECT "
        f"{', '.join(f'coalesce(r.{k}, t.{k}) AS {k}' for k in key)} "
        f"FROM {table} t FULL JOIN report_rows r ON {_same(key, 't', 'r')} "
        f"WHERE t.{key[0]} IS NULL OR r.{key[0]} IS NULL OR "
        f"({', '.join(f'r.{v}' for v in values)}) IS DISTINCT FROM "
        f"({', '.join(f't.{v}' for v in values)})"
    )
    cursor.execute(f"DELETE FROM {table} t USING report_stale s WHERE {_same(key, 't', 's')}")
    cursor.execute(
        f"INSERT INTO {table} ({names}) SELECT {', '.join(f'r.{c}' for c in columns)} "
        f"FROM report_rows r JOIN report_stale s ON {_same(key, 'r', 's')}"
    )
    cursor.execute("DROP TABLE report_rows, report_stale")
    return written


def _same(key, one: str, other: str) -> str:
    return " AND ".join(f"{one}.{k} = {other}.{k}" for k in key)


def _is_superuser(cursor) -> bool:
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    return bool(cursor.fetchone()[0])


def _drop_secondary_indexes(cursor, table: str) -> list[str]:
    """Drop the table's indexes that back no constraint; returns their definitions."""
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
        "FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid "
        "WHERE i.indrelid = %s::regclass AND c.oid IS NULL ORDER BY 1",
        [table],
    )
    found = cursor.fetchall()
    for name, _definition in found:
        cursor.execute(f"DROP INDEX {name}")
    return [definition for _name, definition in found]
