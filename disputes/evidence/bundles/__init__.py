"""Submission bundles: one PDF per response, checked against the channel's limits.

Pure parts: ``profiles`` (the channel table), ``masking``, ``items`` and ``render`` (the PDF),
``preflight`` (the check and the recompression ladder).
"""
