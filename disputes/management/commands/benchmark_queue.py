"""Time the dispute queue the way a browser gets it: full requests through the Django test
client (middleware, session, permissions, selectors, templates), as a logged-in ops lead.

    python manage.py benchmark_queue [--runs 20] [--user lead] [--deep-page 500]

For each scenario it prints the server time per request (p50, p95, max, in ms), the number of SQL
queries the page ran and the rows it showed. "page N" follows the Next cursor N-1 times first
(through the selector, as the Next links would), then times that page. Run it against a seeded
database (``seed_demo --disputes 1000000``) with DEBUG off, as in production: with DEBUG on,
Django re-reads every template on every render and the figures mean little.
"""

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

from disputes import selectors
from disputes.filters import SORTS
from disputes.models import OPEN_DISPUTE, Dispute, business_today
from disputes.views.queue import RESULTS_TARGET, queue_filter


class Command(BaseCommand):
    help = "Measure the dispute queue's server time and SQL queries per page."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=20, help="timed requests per scenario")
        parser.add_argument("--user", default="lead", help="username to view the queue as")
        parser.add_argument("--deep-page", type=int, default=500, help="the deep page to time")

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
        total = Dispute.objects.count()
        open_count = Dispute.objects.filter(OPEN_DISPUTE).count()
        self.stdout.write(
            f"{total:,} disputes ({open_count:,} open) on {connection.vendor}; "
            f"{runs} runs per scenario as {viewer.username}; times in ms (server side)\n"
        )
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
            client = Client()
            client.force_login(viewer)
            header = f"{'scenario':<44} {'p50':>7} {'p95':>7} {'max':>7} {'queries':>8} {'rows':>5}"
            self.stdout.write(header)
            self.stdout.write("-" * len(header))
            for name, query, extra in self.scenarios(viewer, deep_page):
                self.report(client, name, query, extra, runs)

    # --- what to time ------------------------------------------------------------------------

    def scenarios(self, viewer, deep_page):
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
        yield "default, 200 rows", {"size": 200}, {}
        yield (
            "filtered: visa, in review, due ≤3bd",
            {
                "network": "visa",
                "state": "in_review",
                "due": "3bd",
            },
            {},
        )
        yield "filtered: overdue", {"due": "overdue"}, {}
        yield "filtered: unassigned", {"assignee": "unassigned"}, {}
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
        for sort, _label in SORTS:
            yield f"sort {sort}", {"sort": sort}, {}
            yield f"sort -{sort}", {"sort": f"-{sort}"}, {}
        for sort in ("due", "-amount", "client", "assignee"):
            params = {} if sort == "due" else {"sort": sort}
            cursor = self.deep_cursor(viewer, params, deep_page)
            label = "default" if sort == "due" else f"sort {sort}"
            yield f"page {deep_page}, {label}", {**params, "after": cursor}, {}

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

    def report(self, client, name, query, extra, runs):
        url = "/disputes/" + (f"?{urlencode(query)}" if query else "")
        reset_queries()  # each request resets the log; the capture must start from empty
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, secure=True, **extra)
        query_count = len(queries)  # now: the next request empties the log again
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
        self.stdout.write(
            f"{name:<44} {statistics.median(times):>7.1f} {p95:>7.1f} {times[-1]:>7.1f} "
            f"{query_count:>8} {rows:>5}"
        )
