from django import forms

from .services import MAX_WINDOW_DAYS


class ConfirmRuleForm(forms.Form):
    """An ops lead's confirmation of one rule row: only cleans input."""

    CONFIRM, SET_WINDOW = "confirm", "set_window"
    decision = forms.ChoiceField(
        choices=[
            (CONFIRM, "Confirm the table's window for Astra"),
            (SET_WINDOW, "Set a different window for Astra"),
        ],
        widget=forms.RadioSelect,
        initial=CONFIRM,
    )
    days = forms.IntegerField(
        label="Window (days)",
        min_value=1,
        max_value=MAX_WINDOW_DAYS,
        required=False,
        help_text="In the rule's own unit (calendar or banking days).",
    )
    source_document = forms.CharField(
        label="Source document",
        max_length=200,
        help_text="E.g. the processor agreement, the sponsor bank's letter, a network bulletin.",
    )
    effective_from = forms.DateField(
        label="Effective from",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Windows that start on or after this date use it.",
    )
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, table_days=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.table_days = table_days

    def clean(self):
        data = super().clean()
        if data.get("decision") == self.SET_WINDOW and not data.get("days"):
            self.add_error("days", "Give the window Astra uses.")
        if data.get("decision") == self.CONFIRM:
            if self.table_days is None:
                self.add_error("decision", "The table has no window here: set one.")
            data["days"] = None
        return data
