"""Evidence-request chasers: T−2 and T−1 before a request's due date to its Customer Success
owner and the client contact, and overdue to the dispute's owner."""


def send_evidence_chasers(*, now, today, dispatch) -> int:
    """Returns the number of chasers recorded. Evidence requests are not part of this build yet."""
    return 0
