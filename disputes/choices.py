"""The vocabularies of a dispute: networks, rails, stages, work states and outcomes."""

from django.db import models


class Network(models.TextChoices):
    VISA = "visa", "Visa"
    MASTERCARD = "mastercard", "Mastercard"
    NACHA = "nacha", "NACHA"


class Rail(models.TextChoices):
    CARD = "card", "Card"
    VISA_DIRECT = "visa_direct", "Visa Direct"
    MASTERCARD_MOVE = "mastercard_move", "Mastercard Move"
    ACH = "ach", "ACH"
    # Rails Astra moves money on whose dispute flows come later.
    RTP = "rtp", "RTP"
    FEDNOW = "fednow", "FedNow"
    STABLECOIN = "stablecoin", "Stablecoin"


RAILS_BY_NETWORK = {
    Network.VISA: {Rail.CARD, Rail.VISA_DIRECT},
    Network.MASTERCARD: {Rail.CARD, Rail.MASTERCARD_MOVE},
    Network.NACHA: {Rail.ACH},
}


class TransactionType(models.TextChoices):
    PURCHASE = "purchase", "Purchase"
    PUSH_OCT = "push_oct", "Push (OCT)"
    PULL_AFT = "pull_aft", "Pull (AFT)"
    ACH_DEBIT = "ach_debit", "ACH debit"
    ACH_CREDIT = "ach_credit", "ACH credit"


class SecCode(models.TextChoices):
    PPD = "PPD", "PPD (consumer)"
    CCD = "CCD", "CCD (corporate)"
    CTX = "CTX", "CTX (corporate trade exchange)"
    WEB = "WEB", "WEB (internet)"
    TEL = "TEL", "TEL (telephone)"
    ARC = "ARC", "ARC (accounts receivable)"
    BOC = "BOC", "BOC (back office conversion)"
    POP = "POP", "POP (point of purchase)"
    RCK = "RCK", "RCK (re-presented check)"
    IAT = "IAT", "IAT (international)"


class ReferenceKind(models.TextChoices):
    ARN = "arn", "ARN"
    NETWORK_TRANSACTION_ID = "network_txn_id", "Network transaction id"
    TRACE_NUMBER = "trace_number", "ACH trace number"


class Stage(models.TextChoices):
    """Network stages. A dispute's stage is the last network event of its cycle."""

    # Visa (VCR)
    DISPUTE = "dispute", "Dispute"
    DISPUTE_RESPONSE = "dispute_response", "Dispute response"
    # Mastercard
    CHARGEBACK = "chargeback", "First chargeback"
    SECOND_PRESENTMENT = "second_presentment", "Second presentment"
    # Visa and Mastercard
    PRE_ARBITRATION = "pre_arbitration", "Pre-arbitration"
    PRE_ARBITRATION_RESPONSE = "pre_arbitration_response", "Pre-arbitration response"
    ARBITRATION = "arbitration", "Arbitration"
    # NACHA
    AUTHORIZATION_PROOF_REQUESTED = (
        "authorization_proof_requested",
        "Proof of authorization requested",
    )
    AUTHORIZATION_PROOF_PROVIDED = "authorization_proof_provided", "Proof of authorization provided"
    RETURN = "return", "Return received"
    WSUD_REQUESTED = "wsud_requested", "WSUD copy requested"
    WSUD_RECEIVED = "wsud_received", "WSUD copy received"
    DISHONOR = "dishonor", "Dishonored return"
    CONTEST = "contest", "Contested dishonored return"
    REINITIATED = "reinitiated", "Reinitiated"
    # Every flow
    CLOSED = "closed", "Closed"


class WorkState(models.TextChoices):
    """Where the ops team is with a dispute, whatever its network stage."""

    NEW = "new", "New"
    IN_REVIEW = "in_review", "In review"
    AWAITING_EVIDENCE = "awaiting_evidence", "Awaiting evidence"
    READY_TO_SUBMIT = "ready_to_submit", "Ready to submit"
    SUBMITTED = "submitted", "Submitted, awaiting decision"
    CLOSED = "closed", "Closed"


OPEN_WORK_STATES = (
    WorkState.NEW,
    WorkState.IN_REVIEW,
    WorkState.AWAITING_EVIDENCE,
    WorkState.READY_TO_SUBMIT,
    WorkState.SUBMITTED,
)


class Outcome(models.TextChoices):
    WON = "won", "Won"
    LOST = "lost", "Lost"
    ACCEPTED = "accepted", "Liability accepted"
    EXPIRED = "expired", "Expired (no response in time)"
    WITHDRAWN = "withdrawn", "Withdrawn by the other side"


class Party(models.TextChoices):
    """Whose move it is: Astra's (we owe a response) or the counterparty's (we are waiting)."""

    ASTRA = "astra", "Astra"
    COUNTERPARTY = "counterparty", "Counterparty"
