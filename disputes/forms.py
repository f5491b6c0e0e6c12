"""Forms of the dispute page and the calendar. They clean input; the rules live in services."""

from datetime import date

from django import forms

from .choices import OPEN_WORK_STATES, Network
from .evidence.bundles.gate import FILING_ACTS
from .network_dates import earliest_network_date, network_date_problem

ME, UNASSIGNED = "me", "unassigned"


def person_name(user) -> str:
    return user.get_full_name() or user.get_username()


class TransitionForm(forms.Form):
    """The inputs of one transition, built from its ``custom`` metadata (disputes.states):
    the network processing date (``needs_date``), an R-code (``codes``), an assignee
    (``needs_assignee``), the recovered amount of a win. ``version`` is the dispute version the
    user loaded, so a change landing meanwhile is refused rather than overwritten."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    comment = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Why, for the audit trail"}),
    )

    def __init__(
        self,
        *args,
        spec: dict,
        dispute,
        today: date,
        people=None,
        may_override=False,
        bundle_missing=False,
        **kwargs,
    ):
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
                widget=forms.DateInput(
                    attrs={
                        "type": "date",
                        "min": earliest_network_date(
                            dispute.transaction.transaction_date
                        ).isoformat(),
                        "max": today.isoformat(),
                    }
                ),
                help_text="Defaults to today",
            )
        if spec.get("codes"):
            self.fields["code"] = forms.ChoiceField(
                label="Return reason code",
                choices=[("", "Choose a code…"), *((code, code) for code in spec["codes"])],
            )
        if spec.get("needs_assignee"):
            self.people = {str(user.pk): user for user in people or ()}
            self.fields["assignee"] = forms.ChoiceField(
                choices=[
                    ("", "Choose a person…"),
                    *((pk, person_name(user)) for pk, user in self.people.items()),
                ]
            )
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
        if spec["name"] == "claim" and dispute.assignee_id:
            # Someone holds it: say who, and make taking it over a deliberate act.
            self.fields["take_over"] = forms.BooleanField(
                label=f"Take it over from {person_name(dispute.assignee)}",
                help_text=f"{person_name(dispute.assignee)} is working on it now.",
            )
        if may_override and spec["name"] in FILING_ACTS and bundle_missing:
            # No bundle that passed preflight is submitted at this stage: an ops lead may file
            # without one, saying why (the reason goes into the case history).
            self.fields["override_reason"] = forms.CharField(
                label="No submitted bundle at this stage: why file without one?",
                required=True,
                max_length=1000,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text="Filing normally waits for a bundle that passed preflight",
            )
        self.order_fields(
            ["version", "on", "code", "assignee", "recovered_amount", "comment", "override_reason"]
        )

    def clean_on(self):
        on = self.cleaned_data.get("on") or self.today
        transaction = self.dispute.transaction
        problem = network_date_problem(
            on, transaction_date=transaction.transaction_date, today=self.today
        )
        if problem:
            raise forms.ValidationError(problem)
        return on

    def clean_assignee(self):
        return self.people[self.cleaned_data["assignee"]]

    def service_options(self) -> dict:
        """Options of the act's service that are not transition parameters."""
        reason = (self.cleaned_data.get("override_reason") or "").strip()
        return {"override_reason": reason} if reason else {}

    def transition_params(self) -> dict:
        """Keyword arguments for the act's service (after ``is_valid()``)."""
        data = self.cleaned_data
        params = {}
        for key in ("on", "code", "assignee"):
            if key in self.fields:
                params[key] = data[key]
        if data.get("recovered_amount") is not None:
            params["recovered_amount"] = data["recovered_amount"]
        return params


class NoteForm(forms.Form):
    body = forms.CharField(
        label="Add a note",
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Add a note for the team…"}),
    )


# --- calendar ---------------------------------------------------------------------------------

CALENDAR_VIEWS = (("month", "Month"), ("week", "Week"))


class CalendarFilterForm(forms.Form):
    """The calendar's filters, read from the query string with the queue's names and values
    (client slug, assignee username, ``me``, ``unassigned``), so links carry over."""

    view = forms.ChoiceField(choices=CALENDAR_VIEWS, required=False)
    date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    network = forms.ChoiceField(choices=[("", "All networks"), *Network.choices], required=False)
    client = forms.ChoiceField(required=False)
    assignee = forms.ChoiceField(required=False)
    state = forms.ChoiceField(
        choices=[("", "All open states"), *((s.value, s.label) for s in OPEN_WORK_STATES)],
        required=False,
    )

    FILTERS = ("network", "client", "assignee", "state")

    def __init__(self, *args, clients=(), people=(), **kwargs):
        """``clients`` is [(id, slug, name)], ``people`` the users a dispute may be assigned to
        (disputes.selectors.queue_clients / queue_people)."""
        super().__init__(*args, **kwargs)
        self.client_ids = {slug: pk for pk, slug, _name in clients}
        self.people_ids = {user.get_username(): user.pk for user in people}
        self.fields["client"].choices = [
            ("", "All clients"),
            *((slug, name) for _pk, slug, name in clients),
        ]
        self.fields["assignee"].choices = [
            ("", "Anyone"),
            (ME, "Me"),
            (UNASSIGNED, "Unassigned"),
            *((user.get_username(), person_name(user)) for user in people),
        ]

    @property
    def cleaned(self) -> dict:
        """The valid values; a value that did not clean (a stale bookmark) is left out."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return getattr(self, "cleaned_data", {})

    def query_params(self) -> dict[str, str]:
        """The valid filters as they appear in the URL, for links that keep them."""
        return {key: self.cleaned[key] for key in self.FILTERS if self.cleaned.get(key)}

    def filters(self) -> dict:
        """The valid filters for ``calendar_selectors.scoped_disputes``: ids for the client and
        the assignee (or ``me`` / ``unassigned``)."""
        found = self.query_params()
        if "client" in found:
            found["client"] = self.client_ids[found["client"]]
        if found.get("assignee") not in (None, ME, UNASSIGNED):
            found["assignee"] = self.people_ids[found["assignee"]]
        return found

    def view_and_date(self, today: date) -> tuple[str, date]:
        return self.cleaned.get("view") or "month", self.cleaned.get("date") or today
