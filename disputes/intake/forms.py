from django import forms

from ..models import Client
from .models import IntakeFile
from .sources import sources

MAX_UPLOAD = 64 * 1024 * 1024


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label="What is it?", choices=IntakeFile.Kind.choices)
    source = forms.ChoiceField(
        label="Report source", required=False, help_text="Card dispute reports only"
    )
    file = forms.FileField(max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [
            ("", "—"),
            *((key, source.label) for key, source in sources().card_sources.items()),
        ]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError("The file is larger than 64 MB.")
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        return upload

    def clean(self):
        data = super().clean()
        if data.get("kind") == IntakeFile.Kind.CARD and not data.get("source"):
            self.add_error("source", "Say which processor's report this is.")
        return data


class MatchForm(forms.Form):
    client = forms.ModelChoiceField(
        queryset=Client.objects.filter(is_active=True).exclude(slug="unmatched-originator"),
        empty_label="Choose a client…",
    )
    remember = forms.BooleanField(
        required=False, initial=True, label="Match this identification to the client from now on"
    )
