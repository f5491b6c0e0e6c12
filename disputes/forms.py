"""Forms of the dispute page and the calendar. They clean input; the rules live in services."""

from datetime import date, timedelta

from django import forms
from django.contrib.auth import get_user_model

from .choices import OPEN_WORK_STATES, Network
from .models import Client


class TransitionForm(forms.Form):
    """The inputs of one transition, built from its ``custom`` metadata (disputes/states.py):
    the network processing date (``needs_date``), an R-code (``codes``), an assignee
    (``needs_assignee``), the recovered amount of a win. ``version`` is the dispute version the
    user loaded, so a change landing meanwhile is refused rather than overwritten."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    comment = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Why, for the audit trail"}),
    )

    def __init__(self, *args, spec: dict, dispute, today: date, assignees=None, **kwargs):
        # Several transition forms share the page: ids are per transition.
        kwargs.setdefault("auto_id", f"id_{spec['name']}_%s")
        super().__init__(*args, **kwargs)
        self.spec = spec
        self.dispute = dispute
        self.today = today
        if spec.get("outcome"):
            # Closing a case is the decision auditors ask about: say why.
            self.fields["comment"].required = True
            self.fields["comment"].widget.attrs["placeholder"] = "Why (required)"
        if spec.get("needs_date"):
            self.fields["on"] = forms.DateField(
                label="Network processing date",
                required=False,
                initial=today,
                widget=forms.DateInput(attrs={"type": "date", "max": today.isoformat()}),
                help_text="Defaults to today",
            )
        if spec.get("codes"):
            self.fields["code"] = forms.ChoiceField(
                label="Return reason code",
                choices=[("", "Choose a code…"), *((code, code) for code in spec["codes"])],
            )
        if spec.get("needs_assignee"):
            self.fields["assignee"] = forms.ModelChoiceField(
                queryset=assignees,
                empty_label="Choose a person…",
            )
            self.fields["assignee"].label_from_instance = _person
        if spec.get("outcome") == "won":
            self.fields["recovered_amount"] = forms.DecimalField(
                label=f"Recovered amount ({dispute.currency})",
                required=False,
                min_value=0,
                max_value=dispute.amount,
                decimal_places=2,
                widget=forms.NumberInput(attrs={"step": "0.01"}),
                help_text="Leave empty for the full disputed amount",
            )
        self.order_fields(["version", "on", "code", "assignee", "recovered_amount", "comment"])

    def clean_on(self):
        on = self.cleaned_data.get("on") or self.today
        if on > self.today:
            raise forms.ValidationError("The network processing date cannot be in the future.")
        return on

    def transition_params(self, actor) -> dict:
        """Keyword arguments for the transition method (after ``is_valid()``)."""
        data = self.cleaned_data
        params = {}
        if self.spec["name"] == "claim":
            params["assignee"] = actor
        for key in ("on", "code", "assignee"):
            if key in self.fields:
                params[key] = data[key]
        if data.get("recovered_amount") is not None:
            params["recovered_amount"] = data["recovered_amount"]
        return params


def _person(user) -> str:
    return user.get_full_name() or user.get_username()


class NoteForm(forms.Form):
    body = forms.CharField(
        label="Add a note",
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Add a note for the team…"}),
    )


# --- calendar ---------------------------------------------------------------------------------

CALENDAR_VIEWS = (("month", "Month"), ("week", "Week"))


class CalendarFilterForm(forms.Form):
    """The calendar's filters, read from the query string (the same names as the queue's)."""

    view = forms.ChoiceField(choices=CALENDAR_VIEWS, required=False)
    date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    network = forms.ChoiceField(choices=[("", "All networks"), *Network.choices], required=False)
    client = forms.ModelChoiceField(
        queryset=Client.objects.order_by("name"), required=False, empty_label="All clients"
    )
    assignee = forms.ChoiceField(required=False)
    state = forms.ChoiceField(
        choices=[("", "All open states"), *((s.value, s.label) for s in OPEN_WORK_STATES)],
        required=False,
    )

    def __init__(self, *args, assignees=None, **kwargs):
        super().__init__(*args, **kwargs)
        people = assignees if assignees is not None else get_user_model().objects.none()
        self.fields["assignee"].choices = [
            ("", "Anyone"),
            ("me", "Me"),
            ("unassigned", "Unassigned"),
            *((str(user.pk), _person(user)) for user in people),
        ]

    def filters(self) -> dict:
        """The valid filters, ignoring any value that did not clean (a stale bookmark)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            key: data[key]
            for key in ("network", "client", "assignee", "state")
            if data.get(key) not in (None, "")
        }

    def view_and_date(self, today: date) -> tuple[str, date]:
        data = getattr(self, "cleaned_data", {}) if self.is_bound else {}
        view = data.get("view") or "month"
        return view, data.get("date") or today


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())
