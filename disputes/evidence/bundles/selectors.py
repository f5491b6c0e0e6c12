"""What the bundle panel of the dispute page shows."""

from dataclasses import dataclass

from . import profiles, services
from .models import Bundle, BundleVersion
from .preflight import Verdict, megabytes


@dataclass
class ChannelLine:
    profile: profiles.Profile

    @property
    def limits(self) -> str:
        p, parts = self.profile, []
        if p.max_bytes:
            parts.append(f"at most {megabytes(p.max_bytes)}")
        if p.recommended_bytes:
            parts.append(f"{megabytes(p.recommended_bytes)} recommended")
        if p.max_pages:
            parts.append(f"at most {p.max_pages} pages")
        if p.fee_free_pages:
            parts.append(f"{p.fee_free_pages} pages before per-page fees")
        parts.append(f"images at {p.max_dpi} DPI")
        return ", ".join(parts)


def panel(dispute) -> dict:
    bundle = Bundle.objects.filter(dispute=dispute).first()
    versions = list(
        BundleVersion.objects.filter(dispute=dispute)
        .select_related("submitted_by", "requested_by")
        .order_by("-number")[:10]
    )
    latest = versions[0] if versions else None
    channel = services.channel_of(dispute, bundle)
    return {
        "bundle": bundle,
        "channel": ChannelLine(channel),
        "channels": profiles.channels().for_network(dispute.network),
        "chosen_channel": bundle.channel if bundle else "",
        "items": services.ordered_items(dispute, bundle),
        "versions": versions,
        "latest": latest,
        "latest_verdict": verdict_of(latest),
        # For the notice only (the filing check asks the database itself).
        "submitted": next(
            (v for v in versions if v.is_submitted and v.fits and v.stage == dispute.stage),
            None,
        ),
    }


def verdict_of(version: BundleVersion | None) -> Verdict | None:
    if version is None or not version.verdict:
        return None
    return Verdict.from_dict(version.verdict)
