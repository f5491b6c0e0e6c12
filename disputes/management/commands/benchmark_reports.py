import statistics
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client

from disputes.models import Dispute, business_today
from disputes.reports import filings


class Command(BaseCommand):
    help = (
        "Time /reports/ for a quarter's figures (91 days ending today) and the KPI endpoint, "
        "server side, over the disputes in the database; prints p50 and p95."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rounds", type=int, default=20)
        parser.add_argument("--days", type=int, default=91)

    def handle(self, *args, rounds, days, **options):
        lead = get_user_model().objects.filter(groups__name="ops_lead", is_active=True).first()
        if lead is None:
            self.stderr.write("No ops lead: run seed_demo first.")
            return
        started = time.perf_counter()
        added = filings.refresh()
        self.stdout.write(
            f"Filings derived: {added:,} new in {time.perf_counter() - started:.1f} s "
            "(run once after a bulk load; a page refresh then reads only new events)"
        )
        disputes = Dispute.objects.count()
        today = business_today()
        start = today - timedelta(days=days - 1)
        client = Client(SERVER_NAME="127.0.0.1")
        client.force_login(lead)
        urls = {
            "/reports/ (a quarter)": f"/reports/?from={start}&to={today}",
            "/reports/ (a quarter, one network)": f"/reports/?from={start}&to={today}&network=visa",
            "/api/v1/reports/kpis/ (a quarter)": f"/api/v1/reports/kpis/?from={start}&to={today}",
        }
        self.stdout.write(f"{disputes:,} disputes; period {start} to {today}; {rounds} rounds")
        for label, url in urls.items():
            client.get(url)  # warm caches
            times = []
            for _ in range(rounds):
                t0 = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200, response.status_code
            times.sort()
            p95 = times[max(0, round(0.95 * len(times)) - 1)]
            self.stdout.write(
                f"{label}: p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} ms, "
                f"max {times[-1]:.0f} ms"
            )
        connection.close()
