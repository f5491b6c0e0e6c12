"""Astra Ops deadline engine: network rule tables, the Fed banking calendar, deadlines.

Every deadline in Astra Ops comes from here::

    from calendar_rules import calendars, rules, deadlines, nacha

* ``rules``: the reason codes and stage windows of Visa, Mastercard and Nacha, read from
  ``rules/*.yaml`` (validated once, cached; ``rules_version()`` names the tables).
* ``calendars``: ``calendars.FED``, Federal Reserve business days.
* ``deadlines``: ``compute(network=, code=, stage=, anchor=)`` → network and internal due dates
  with a one-sentence explanation.
* ``nacha``: return timeliness, dishonor, reinitiation limits, return-rate classes.

Conventions (also in README.md and the YAML headers):

* Card-network windows count calendar days with the anchor date as day 0 and never roll to a
  business day.
* Nacha windows count Fed banking days (weekends and Fed holidays excluded; a Saturday holiday
  leaves the Friday open, a Sunday holiday closes the Monday). A return is due at opening of
  business on the 2nd banking day after settlement (2-day codes) or on the banking day after
  the 60th calendar day (extended codes).
* The internal deadline is the network deadline minus a buffer in Fed banking days.

This package imports no Django: the Django pieces (``apps``, ``views``, ``urls``, management
commands) are separate modules.
"""
