"""Which acts file our documents, and so need a submitted bundle (``services.filing_check``)."""

# The acts that send our documents to the network or the RDFI: each needs a submitted bundle
# that passed preflight at the dispute's current stage (an ops lead may override, with a reason).
FILING_ACTS = frozenset(
    {
        "visa_submit_dispute_response",
        "visa_submit_pre_arbitration_response",
        "visa_file_pre_arbitration",
        "visa_file_arbitration",
        "mc_submit_second_presentment",
        "mc_submit_pre_arbitration_response",
        "nacha_provide_authorization_proof",
    }
)
