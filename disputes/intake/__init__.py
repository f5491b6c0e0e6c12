"""Disputes that arrive by themselves: NACHA return files, processors' dispute reports and
transaction volumes. Pure parsers (``nacha``, ``card_csv``, ``volumes``) and the services that
apply them (``services``)."""

from . import kinds  # noqa: F401  (the intake's event kinds register themselves)
