"""Confirmed rules: an ops lead confirms a rule-table row for Astra, or sets its window, with
the document it comes from and the date it takes effect. Deadlines use the confirmed window;
pages say "confirmed by … on …, source …" instead of a doubt."""
