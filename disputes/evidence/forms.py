"""Forms of the evidence panel, the letter editor and the client's upload page. They clean
input only; the rules live in ``services``."""

from django import forms
from django.contrib.auth import get_user_model

from .selectors import kind_choices


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class UploadForm(forms.Form):
    """The fields beside the files (``file``, repeatable, is read from request.FILES)."""

    kind = forms.ChoiceField(label="What is it?")
    description = forms.CharField(
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": "e.g. UPS tracking, delivered Nov 3"}),
    )
    on_behalf_of = forms.TypedChoiceField(
        required=False, label="Sent by (client contact)", coerce=int, empty_value=None
    )

    def __init__(self, *args, dispute, kinds=None, contacts=None, **kwargs):
        kwargs.setdefault("auto_id", "id_upload_%s")
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds or kind_choices(dispute)
        contacts = list(dispute.client.contacts.all()) if contacts is None else contacts
        self.contacts = {c.pk: c for c in contacts}
        self.fields["on_behalf_of"].choices = [("", "Nobody — ours")] + [
            (c.pk, c.name) for c in contacts
        ]

    def clean_on_behalf_of(self):
        value = self.cleaned_data.get("on_behalf_of")
        return self.contacts.get(value) if value is not None else None


class RequestForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    recipient = forms.ChoiceField(label="Ask")
    kinds = forms.MultipleChoiceField(
        label="For",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one item to ask for."},
    )
    due_on = forms.DateField(label="Due", widget=forms.DateInput(attrs={"type": "date"}))
    message = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "What to send, in plain words"}),
    )
    confirm_late = forms.BooleanField(
        required=False, label="The network deadline has passed: ask anyway"
    )

    def __init__(self, *args, dispute, contacts=None, **kwargs):
        kwargs.setdefault("auto_id", "id_request_%s")
        super().__init__(*args, **kwargs)
        if contacts is None:
            contacts = list(dispute.client.contacts.all())
        contacts = [c for c in contacts if c.receives_evidence_requests]
        colleagues = (
            get_user_model()
            .objects.filter(
                is_active=True, groups__name__in=["customer_success", "ops_agent", "ops_lead"]
            )
            .distinct()
            .order_by("first_name", "last_name")
        )
        self.contacts = {f"contact:{c.pk}": c for c in contacts}
        self.colleagues = {f"user:{u.pk}": u for u in colleagues}
        self.fields["recipient"].choices = [
            ("Client contacts", [(k, f"{c.name} ({c.email})") for k, c in self.contacts.items()]),
            (
                "Colleagues",
                [(k, u.get_full_name() or u.get_username()) for k, u in self.colleagues.items()],
            ),
        ]
        self.fields["kinds"].choices = kind_choices(dispute)

    def recipient_kwargs(self) -> dict:
        key = self.cleaned_data["recipient"]
        if key in self.contacts:
            return {"contact": self.contacts[key]}
        return {"colleague": self.colleagues[key]}


class CloseRequestForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    comment = forms.CharField(required=False, max_length=2000)


class WithdrawForm(forms.Form):
    reason = forms.CharField(max_length=300, label="Why withdraw it?")


class OverrideForm(forms.Form):
    reason = forms.CharField(
        max_length=2000,
        label="Why may it go ahead without it?",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class LetterForm(forms.Form):
    body = forms.CharField(
        label="Letter", max_length=20000, widget=forms.Textarea(attrs={"rows": 24})
    )
    family = forms.CharField(widget=forms.HiddenInput, max_length=40)
