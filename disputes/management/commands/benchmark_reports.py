import os
import statistics
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from disputes.models import Dispute, business_today
from disputes.reports import summary
from disputes.reports.models import ReportDay


class Command(BaseCommand):
    requires_system_checks = []  # started often (cron, beat): checks run at deploy and migrate
    help = (
        "Time /reports/ for a quarter's figures (91 days ending today) and the KPI endpoint, "
        "server side, over the disputes in the database; prints p50 and p95, CPU time, the load "
        "average and the queries of one page."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rounds", type=int, default=20)
        parser.add_argument("--days", type=int, default=91)
        parser.add_argument(
            "--pending",
            type=int,
            default=0,
            help="first move the watermark back by this many events, so each page also adds "
            "the disputes changed since (as between two refreshes)",
        )

    def handle(self, *args, rounds, days, pending, **options):
        lead = get_user_model().objects.filter(groups__name="ops_lead", is_active=True).first()
        if lead is None:
            self.stderr.write("No ops lead: run seed_demo first.")
            return
        self._refresh(pending)
        disputes = Dispute.objects.count()
        today = business_today()
        start = today - timedelta(days=days - 1)
        client = Client(SERVER_NAME="127.0.0.1")
        client.force_login(lead)
        some_client = Dispute.objects.order_by().values_list("client_id", flat=True).first()
        urls = {
            "/reports/ (a quarter)": f"/reports/?from={start}&to={today}",
            "/reports/ (a quarter, one network)": f"/reports/?from={start}&to={today}&network=visa",
            "/reports/ (a quarter, one client)": f"/reports/?from={start}&to={today}"
            f"&client={some_client}",
            "/api/v1/reports/kpis/ (a quarter)": f"/api/v1/reports/kpis/?from={start}&to={today}",
        }
        self.stdout.write(
            f"{disputes:,} disputes, {ReportDay.objects.count():,} daily sums; period {start} to "
            f"{today}; {rounds} rounds; load average {_load()}"
        )
        for label, url in urls.items():
            self._time(client, label, url, rounds)
        self._queries(client, urls["/reports/ (a quarter)"])
        connection.close()

    def _refresh(self, pending: int) -> None:
        started = time.perf_counter(), time.process_time()
        done = summary.refresh()
        self.stdout.write(
            f"Summaries refreshed up to event {done.watermark:,} ({done.disputes:,} disputes "
            f"re-read) in {time.perf_counter() - started[0]:.1f} s, "
            f"{time.process_time() - started[1]:.1f} s CPU"
        )
        if pending:
            from disputes.reports.models import ReportRefresh

            ReportRefresh.objects.filter(pk=1).update(last_event_id=done.watermark - pending)
            self.stdout.write(f"Watermark moved back {pending:,} events: pages add them live.")

    def _time(self, client, label, url, rounds) -> None:
        client.get(url)  # warm caches
        times, cpu = [], []
        for _ in range(rounds):
            t0, c0 = time.perf_counter(), time.process_time()
            response = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            assert response.status_code == 200, response.status_code
        times.sort()
        p95 = times[max(0, round(0.95 * len(times)) - 1)]
        self.stdout.write(
            f"{label}: p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} ms, "
            f"max {times[-1]:.0f} ms (app CPU median {statistics.median(cpu):.0f} ms); "
            f"load {_load()}"
        )

    def _queries(self, client, url) -> None:
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        self.stdout.write(f"Queries of one quarter page ({len(queries)}):")
        for query in sorted(queries.captured_queries, key=lambda q: -float(q["time"])):
            sql = " ".join(query["sql"].split())
            self.stdout.write(f"  {float(query['time']) * 1000:7.1f} ms  {sql[:220]}")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
