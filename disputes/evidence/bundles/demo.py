"""Demo bundles: rendered versions on open disputes of each network that have evidence and a
letter, some submitted; one sent through Adyen with a large photo (the ladder recompresses it
to fit) and one with a statement too long for Adyen (the verdict names it). Everything goes
through the services."""

import io
import random

from disputes.choices import Network, WorkState
from disputes.models import Dispute

from .. import samples
from ..models import RebuttalLetter
from ..services import Upload, upload_evidence
from . import services


def _candidates(network: str, count: int) -> list[Dispute]:
    """Open disputes with evidence, those with a letter and ready to submit first."""
    found = Dispute.objects.filter(
        network=network, state__in=[WorkState.READY_TO_SUBMIT, WorkState.IN_REVIEW]
    ).order_by("-state", "internal_due", "id")
    with_letter = list(found.filter(pk__in=RebuttalLetter.objects.values("dispute_id"))[:count])
    rest = [d for d in found[: count * 2] if d not in with_letter]
    return (with_letter + rest)[:count]


def _photo(seed: int) -> bytes:
    from PIL import Image, ImageFilter

    random.seed(seed)
    tile = Image.effect_noise((2800, 2100), 60).convert("L")
    soft = tile.filter(ImageFilter.GaussianBlur(1))
    photo = Image.merge("RGB", (tile, soft, tile.rotate(180)))
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=93)
    return out.getvalue()


def _sample_evidence(dispute, agent) -> None:
    txn = dispute.transaction
    receipt = samples.png_receipt(
        [dispute.client.name, f"Receipt {txn.network_reference}", f"Total {txn.amount}"]
    )
    lines = [f"Delivered {txn.transaction_date} to the cardholder's address; signed."]
    for kind, upload in (
        ("transaction_receipt", Upload(f"receipt-{txn.pk}.png", receipt)),
        ("other", Upload(f"delivery-{txn.pk}.pdf", samples.pdf_document("Delivery", lines))),
    ):
        upload_evidence(dispute_id=dispute.pk, uploads=[upload], kind=kind, actor=agent)


def seed_bundles(*, users: dict, per_network: int = 3, networks=None) -> dict:
    """Render bundles on up to ``per_network`` disputes of each network; returns counts."""
    agent = users.get("ops_agent") or users["ops_lead"]
    counts = {"rendered": 0, "submitted": 0}
    for network in networks or (Network.VISA, Network.MASTERCARD, Network.NACHA):
        for index, dispute in enumerate(_candidates(network, per_network)):
            if not dispute.evidence_items.filter(withdrawn=False).exists():
                _sample_evidence(dispute, agent)
            if index == 1 and network == Network.MASTERCARD:
                services.choose_channel(dispute_id=dispute.pk, channel="adyen", actor=agent)
                photo = Upload(f"parcel-photo-{dispute.pk}.jpg", _photo(dispute.pk))
                upload_evidence(
                    dispute_id=dispute.pk, uploads=[photo], kind="other", actor=agent,
                    description="Photo of the parcel at the door",
                )  # fmt: skip
            if index == 2 and network == Network.VISA:
                services.choose_channel(dispute_id=dispute.pk, channel="adyen", actor=agent)
                lines = [f"Statement line {n}: order, shipment, amount" for n in range(24 * 40)]
                statement = Upload(
                    f"statement-{dispute.pk}.pdf", samples.pdf_document("Statement", lines)
                )
                upload_evidence(
                    dispute_id=dispute.pk, uploads=[statement], kind="other", actor=agent,
                    description="Account statement, 24 pages",
                )  # fmt: skip
            version = services.request_render(dispute_id=dispute.pk, actor=agent, enqueue=False)
            version = services.render_version(version_id=version.pk)
            counts["rendered"] += 1
            if index == 0 and version.fits:
                services.submit_bundle(version_id=version.pk, actor=agent)
                counts["submitted"] += 1
    return counts
