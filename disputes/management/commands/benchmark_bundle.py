"""python manage.py benchmark_bundle [--rounds N]: time a 20-item bundle against bare
WeasyPrint + pypdf doing the same work, side by side in one run, and print the figures."""

import os
import statistics

from django.core.management.base import BaseCommand

from disputes.evidence.bundles import benchmark

TARGET_SECONDS, TARGET_RATIO, TARGET_PEAK_MB = 10.0, 1.5, 1024


class Command(BaseCommand):
    requires_system_checks = []  # started often (cron, beat): checks run at deploy and migrate
    help = "Render a 20-item bundle (10 photos of 3–5 MB, 5 PDFs, 5 text items) and compare."

    def add_arguments(self, parser):
        parser.add_argument("--rounds", type=int, default=2)

    def handle(self, *args, rounds, **options):
        items = benchmark.sample_items()
        photos = [len(i.data) for i in items if i.content_type == "image/jpeg"]
        self.stdout.write(
            f"Inputs: {len(items)} items; photos {min(photos) / 1e6:.1f}–"
            f"{max(photos) / 1e6:.1f} MB, {sum(len(i.data) for i in items) / 1e6:.1f} MB in all"
        )
        ours, bare = [], []
        for round_ in range(1, max(1, rounds) + 1):
            ours.append(benchmark.measure(benchmark.run_renderer, items))
            bare.append(benchmark.measure(benchmark.run_bare, items))
            self.stdout.write(
                f"round {round_}: bundle renderer {ours[-1][0]:.2f} s ({ours[-1][4]:.2f} s CPU), "
                f"bare WeasyPrint + pypdf {bare[-1][0]:.2f} s ({bare[-1][4]:.2f} s CPU)"
            )
        ours_s = statistics.median(r[0] for r in ours)
        bare_s = statistics.median(r[0] for r in bare)
        peak_mb = max(r[3] for r in ours) / 1024
        ratio = ours_s / bare_s
        ours_cpu = statistics.median(r[4] for r in ours)
        bare_cpu = statistics.median(r[4] for r in bare)
        size, pages = ours[-1][1], ours[-1][2]
        self.stdout.write(
            f"Bundle renderer: {ours_s:.2f} s (median; {ours_cpu:.2f} s CPU), {pages} pages, "
            f"{size / 1e6:.1f} MB, "
            f"peak memory {peak_mb:.0f} MB"
        )
        self.stdout.write(
            f"Bare WeasyPrint + pypdf: {bare_s:.2f} s (median; {bare_cpu:.2f} s CPU), "
            f"{bare[-1][2]} pages, "
            f"{bare[-1][1] / 1e6:.1f} MB, peak memory {max(r[3] for r in bare) / 1024:.0f} MB"
        )
        self.stdout.write(
            f"Ratio: {ratio:.2f}× wall clock, {ours_cpu / bare_cpu:.2f}× CPU "
            f"(target ≤ {TARGET_RATIO}×); load average {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} CPUs"
        )
        ok = ours_s < TARGET_SECONDS and ratio <= TARGET_RATIO and peak_mb < TARGET_PEAK_MB
        verdict = "within targets" if ok else "OUTSIDE targets"
        self.stdout.write(
            f"{verdict}: < {TARGET_SECONDS:.0f} s, ≤ {TARGET_RATIO}× bare, "
            f"< {TARGET_PEAK_MB} MB peak"
        )
