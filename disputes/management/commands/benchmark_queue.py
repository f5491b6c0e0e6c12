"""Time the dispute queue the way a browser gets it: full requests through the Django test
client (middleware, session, permissions, selectors, templates), as a logged-in ops lead.

    python manage.py benchmark_queue [--runs 20] [--user lead] [--deep-page 500]
                                     [--every-view-sort] [--save F.json] [--compare F.json]
                                     [--export] [--write-cost [--rounds 5] [--batch 300]]

Scenarios: every view (open, closed, all, each built-in view), every sort in both directions over
open, closed and all disputes, 200-row pages, page N of several sorts and views, filters and
searches. For each it prints the server time per request (p50, p95, max, in ms), the SQL time of
one request (ms), the number of SQL queries the page ran and the rows it showed. "page N" follows
the Next cursor N-1 times first (through the selector, as the Next links would), then times that
page. ``--every-view-sort`` adds every built-in view under every sort. ``--save`` writes the
figures to a file; ``--compare`` reads such a file (say, a run at 10,000 disputes) and prints
each scenario's p95 ratio against it. ``--export`` also times the CSV export of every dispute
(first byte, first rows, total, rows/s) next to PostgreSQL's own COPY of the same rows.
``--write-cost`` times instead what the queue's indexes cost the writes: recomputing deadlines,
claims and closings through the services, with every index and with the closed views' indexes
(or every queue index) dropped, side by side in rounds (``_queue_write_cost``).

Run it against a seeded database (``seed_demo --disputes 1000000``) with DEBUG off, as in
production: with DEBUG on, Django re-reads every template on every render and the figures mean
little.
"""

import json
import os
import resource
import statistics
import time
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, reset_queries
from django.test import Client, RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext

from disputes import export, selectors
from disputes.filters import SORTS, VIEWS
from disputes.models import OPEN_DISPUTE, Dispute, business_today
from disputes.views.queue import RESULTS_TARGET, queue_filter

from . import _queue_write_cost as write_cost

P95_BUDGET_MS = 150
QUERY_BUDGET = 12
STATES = {"open": {}, "closed": {"state": "closed"}, "all": {"state": "all"}}


class Command(BaseCommand):
    requires_system_checks = []  # started often (cron, beat): checks run at deploy and migrate
    help = "Measure the dispute queue's server time and SQL queries per page."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=20, help="timed requests per scenario")
        parser.add_argument("--user", default="lead", help="username to view the queue as")
        parser.add_argument("--deep-page", type=int, default=500, help="the deep page to time")
        parser.add_argument("--every-view-sort", action="store_true", help="views × sorts too")
        parser.add_argument("--save", help="write the figures to this JSON file")
        parser.add_argument("--compare", help="print p95 ratios against this saved JSON file")
        parser.add_argument("--only", default="", help="only scenarios whose name has this text")
        parser.add_argument("--export", action="store_true", help="time the CSV export too")
        parser.add_argument(
            "--write-cost",
            action="store_true",
            help="time deadline recomputation, claims and closings with and without the indexes",
        )
        parser.add_argument("--rounds", type=int, default=5, help="--write-cost rounds")
        parser.add_argument("--batch", type=int, default=300, help="--write-cost disputes per act")
        parser.add_argument(
            "--buffers",
            action="store_true",
            help="also EXPLAIN (ANALYZE, BUFFERS) each page's queries: database pages touched and "
            "execution time, which a busy machine changes far less than wall-clock time",
        )

    def handle(self, *args, runs, user, deep_page, **options):
        if runs < 1 or deep_page < 2:
            raise CommandError("--runs must be at least 1 and --deep-page at least 2.")
        viewer = get_user_model().objects.filter(username=user).first()
        if viewer is None:
            raise CommandError(f"No user {user!r}: run seed_demo first, or pass --user.")
        if settings.DEBUG:
            self.stderr.write(
                "DEBUG is on: templates are re-read on every render (not production)."
            )
        if options["write_cost"]:
            return self.write_cost(viewer, options["rounds"], options["batch"])
        baseline = {}
        if options["compare"]:
            with open(options["compare"]) as saved:
                baseline = json.load(saved)["scenarios"]
        total = Dispute.objects.count()
        open_count = Dispute.objects.filter(OPEN_DISPUTE).count()
        self.stdout.write(
            f"{total:,} disputes ({open_count:,} open) on {connection.vendor}; "
            f"{runs} runs per scenario as {viewer.username}; times in ms (server side)\n"
        )
        if connection.vendor == "postgresql":
            self.stdout.write(self.visibility() + "\n")
        results = {}
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
            client = Client()
            client.force_login(viewer)
            self.buffers = options["buffers"] and connection.vendor == "postgresql"
            header = (
                f"{'scenario':<46} {'p50':>7} {'p95':>7} {'max':>7} {'sql':>6} "
                f"{'queries':>7} {'rows':>5}"
                + (f" {'ratio':>6}" if baseline else "")
                + (f" {'pages':>7} {'exec':>6}" if self.buffers else "")
            )
            self.stdout.write(header)
            self.stdout.write("-" * len(header))
            for name, query, extra in self.scenarios(viewer, deep_page, options):
                if options["only"] and options["only"] not in name:
                    continue
                results[name] = self.report(client, name, query, extra, runs, baseline)
        self.summary(results, baseline)
        if options["export"]:
            self.time_export(viewer)
        if options["save"]:
            with open(options["save"], "w") as saved:
                json.dump({"disputes": total, "scenarios": results}, saved, indent=1)

    def visibility(self) -> str:
        """How much of the dispute table the index-only reads (views, counts) can trust: pages
        changed since the last vacuum are read from the table as well."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relallvisible, c.relpages, s.n_dead_tup, current_setting('autovacuum') "
                "FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid "
                "WHERE c.relname = %s",
                [Dispute._meta.db_table],
            )
            visible, pages, dead, autovacuum = cursor.fetchone()
        share = 100 * visible / max(pages, 1)
        return (
            f"visibility map: {share:.0f} % of the dispute table's pages all-visible, {dead:,} "
            f"dead rows (autovacuum {autovacuum}; VACUUM sets the map)"
        )

    # --- what to time ------------------------------------------------------------------------

    def scenarios(self, viewer, deep_page, options):
        sample = (
            Dispute.objects.filter(OPEN_DISPUTE)
            .select_related("transaction", "client")
            .order_by("-id")
            .first()
        )
        if sample is None:
            raise CommandError("No open disputes: run seed_demo first.")
        htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": RESULTS_TARGET}
        yield "default (open, urgency first)", {}, {}
        yield "default, results only (HTMX)", {}, htmx
        yield "default, 25 rows", {"size": 25}, {}
        for state, params in STATES.items():
            yield f"{state}, 200 rows", {**params, "size": 200}, {}
        for view in VIEWS:
            yield f"view: {view.label}", dict(view.params), {}
        yield "view: closed", STATES["closed"], {}
        yield "view: open or closed", STATES["all"], {}
        yield from self.filters(sample)
        for state, params in STATES.items():
            for sort, _label in SORTS:
                for direction in ("", "-"):
                    yield (
                        f"{state}, sort {direction}{sort}",
                        {**params, "sort": direction + sort},
                        {},
                    )
        if options["every_view_sort"]:
            for view in VIEWS[1:]:
                for sort, _label in SORTS:
                    for direction in ("", "-"):
                        query = {**view.params, "sort": direction + sort}
                        yield f"{view.slug}, sort {direction}{sort}", query, {}
        deep = [
            ("open", "due"),
            ("open", "-amount"),
            ("open", "client"),
            ("open", "assignee"),
            ("closed", "-amount"),
            ("all", "received"),
        ]
        for state, sort in deep:
            name = f"page {deep_page}, {state}, sort {sort}"
            if options["only"] and options["only"] not in name:
                continue  # reaching a deep page takes hundreds of queries
            params = {**STATES[state], **({} if sort == "due" else {"sort": sort})}
            cursor = self.deep_cursor(viewer, params, deep_page)
            yield name, {**params, "after": cursor}, {}

    def filters(self, sample):
        yield (
            "filtered: visa, in review, due ≤3bd",
            {"network": "visa", "state": "in_review", "due": "3bd"},
            {},
        )
        yield "filtered: one client", {"client": sample.client.slug}, {}
        today = business_today()
        yield (
            "filtered: amount 500–1000, received 7–14d ago",
            {
                "amount_min": 500,
                "amount_max": 1000,
                "received_from": (today - timedelta(days=14)).isoformat(),
                "received_to": (today - timedelta(days=7)).isoformat(),
            },
            {},
        )
        yield (
            "filtered: amount 500–1000, received 30d",
            {
                "amount_min": 500,
                "amount_max": 1000,
                "received_from": (today - timedelta(days=30)).isoformat(),
            },
            {},
        )
        yield "search: case id", {"q": sample.case_id}, {}
        yield "search: case id prefix", {"q": sample.case_id[:-3]}, {}
        yield "search: ARN / trace number", {"q": sample.transaction.network_reference}, {}
        yield "search: client name", {"q": sample.client.name.split()[0]}, {}

    def deep_cursor(self, viewer, params, page_number):
        """The cursor of page ``page_number``, reached by following Next from page 1."""
        request = RequestFactory().get("/disputes/", params)
        request.user = viewer
        cursor = None
        for _ in range(page_number - 1):
            data = {**params, "after": cursor} if cursor else params
            request.GET = RequestFactory().get("/disputes/", data).GET
            page = selectors.for_queue(viewer, queue_filter(request, request.GET))
            cursor = page.next_cursor
            if cursor is None:
                raise CommandError(f"There are fewer than {page_number} pages for {params}.")
        return cursor

    # --- measuring ---------------------------------------------------------------------------

    def report(self, client, name, query, extra, runs, baseline) -> dict:
        url = "/disputes/" + (f"?{urlencode(query)}" if query else "")
        reset_queries()  # each request resets the log; the capture must start from empty
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, secure=True, **extra)
        captured = list(queries.captured_queries)  # now: the next request empties the log
        query_count = len(captured)
        sql_ms = sum(float(q["time"]) for q in captured) * 1000
        if response.status_code != 200:
            raise CommandError(f"{url} answered {response.status_code}.")
        rows = response.content.count(b'<tr id="dispute-')
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            client.get(url, secure=True, **extra)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        figures = {
            "p50": statistics.median(times),
            "p95": p95,
            "max": times[-1],
            "sql": sql_ms,
            "queries": query_count,
            "rows": rows,
        }
        line = (
            f"{name:<46} {figures['p50']:>7.1f} {p95:>7.1f} {times[-1]:>7.1f} {sql_ms:>6.1f} "
            f"{query_count:>7} {rows:>5}"
        )
        if baseline:
            ratio = p95 / baseline[name]["p95"] if name in baseline else float("nan")
            line += f" {ratio:>6.2f}"
        if self.buffers:
            figures["pages"], figures["exec"] = self.explain(captured)
            line += f" {figures['pages']:>7} {figures['exec']:>6.1f}"
        self.stdout.write(line)
        return figures

    def explain(self, captured) -> tuple[int, float]:
        """Shared buffers (8 KB pages) the page's SELECTs touch, and their execution time."""
        pages, elapsed = 0, 0.0
        with connection.cursor() as cursor:
            for query in captured:
                if not query["sql"].lstrip().upper().startswith("SELECT"):
                    continue
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {query['sql']}")
                (plan,) = cursor.fetchone()[0]
                top = plan["Plan"]
                pages += top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
                elapsed += plan["Execution Time"]
        return pages, elapsed

    def summary(self, results, baseline):
        if not results:
            return
        slow = [name for name, f in results.items() if f["p95"] > P95_BUDGET_MS]
        many = [name for name, f in results.items() if f["queries"] > QUERY_BUDGET]
        worst = max(results.items(), key=lambda item: item[1]["p95"])
        self.stdout.write(
            f"\n{len(results)} scenarios; worst p95 {worst[1]['p95']:.1f} ms ({worst[0]}); "
            f"most queries {max(f['queries'] for f in results.values())}"
        )
        self.stdout.write(f"over {P95_BUDGET_MS} ms p95: {', '.join(slow) or 'none'}")
        self.stdout.write(f"over {QUERY_BUDGET} queries: {', '.join(many) or 'none'}")
        default = "default (open, urgency first)"
        if default in results and default in baseline:
            ratio = results[default]["p95"] / baseline[default]["p95"]
            self.stdout.write(f"default view p95 ratio against the saved run: {ratio:.2f}")

    def time_export(self, viewer):
        """The CSV export of every dispute (state=all, by due): first byte (the header), first
        data rows, total, rows/s and this process's peak memory, beside the same COPY
        statements run with PostgreSQL's own plans (what psql's \\copy of them does)."""
        request = RequestFactory().get("/disputes/export.csv", {"state": "all"})
        request.user = viewer
        params = queue_filter(request, request.GET)
        today = business_today()
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        cpu = time.process_time()
        started = time.perf_counter()
        first = first_row = None
        size = lines = 0
        for chunk in export.csv_chunks(viewer, params, today):
            if first is None:
                first = time.perf_counter() - started
            elif first_row is None:
                first_row = time.perf_counter() - started
            size += len(chunk)
            lines += chunk.count(b"\n")
        total = time.perf_counter() - started
        cpu = time.process_time() - cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        rows = lines - 1
        self.stdout.write(
            f"\nexport (all {rows:,} disputes, {size / 1e6:.0f} MB): first byte {first:.3f} s, "
            f"first data rows {first_row or 0:.3f} s, total {total:.1f} s, "
            f"{rows / total:,.0f} rows/s; this process: CPU {cpu:.1f} s, peak memory "
            f"{peak_before / 1024:.0f} MB before, {peak / 1024:.0f} MB after"
        )
        if connection.vendor == "postgresql":
            statements = list(export.copy_statements(viewer, params, today))
            started = time.perf_counter()
            first_row = None
            copied = 0
            with connection.cursor() as cursor:
                for statement in statements:
                    with cursor.cursor.copy(statement) as copy:
                        while data := copy.read():
                            first_row = first_row or time.perf_counter() - started
                            copied += len(data)
            raw = time.perf_counter() - started
            self.stdout.write(
                f"the same COPY statements, PostgreSQL's own plans, read and dropped: first data "
                f"{first_row or 0:.3f} s, total {raw:.1f} s (export / COPY: {total / raw:.2f})"
            )

    def write_cost(self, lead, rounds: int, batch: int):
        if connection.vendor != "postgresql" or rounds < 1 or batch < 1:
            raise CommandError("--write-cost needs PostgreSQL, --rounds and --batch ≥ 1.")
        variants = {
            "every index": write_cost.Variant(),
            # The queue before this work: no closed-view indexes, open ones without the views'
            # columns.
            "as before (no closed, narrow open)": write_cost.Variant(
                dropped=write_cost.CLOSED_VIEW_INDEXES, narrowed=write_cost.WIDENED_OPEN_INDEXES
            ),
            "closed-view indexes dropped": write_cost.Variant(
                dropped=write_cost.CLOSED_VIEW_INDEXES
            ),
            "every queue sort index dropped": write_cost.Variant(
                dropped=write_cost.queue_sort_indexes()
            ),
        }
        workloads = write_cost.pick(batch, len(variants) * (rounds + 1))
        workload = workloads[0]
        self.stdout.write(
            f"{Dispute.objects.count():,} disputes; {rounds} rounds (and one to warm up) of: "
            f"recompute {len(workload.recompute_ids)} open disputes' deadlines, claim "
            f"{len(workload.claim_ids)}, close {len(workload.close_ids)} (as {lead.username}), "
            f"other disputes each time; load average "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
        found = write_cost.measure(workloads, lead, variants, rounds, self.stdout.write)
        write_cost.summary(found, workload, self.stdout.write)
        self.stdout.write(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
