"""Evidence on a dispute: uploads validated by content, the checklist per reason code,
requests that clients answer through a signed link, and the rebuttal letter.

Models: ``models.py`` (imported by ``disputes.models``). Acts: ``services.py``. Reads:
``selectors.py``. Pure file checks: ``validation.py``. The checklist table is
``calendar_rules/rules/evidence.yaml``.
"""

from . import (
    kinds,  # noqa: F401  (the evidence event kinds register themselves)
    mail,  # noqa: F401  (e-mails the upload link after a request commits)
)
