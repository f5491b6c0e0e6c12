"""/accounts/lockouts/: the usernames and addresses locked out of signing in now, and lifting a
lockout (permission ``disputes.unlock_logins``: ops leads and admins)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render

from .logins import current_lockouts, lift_lockout

P_UNLOCK = "disputes.unlock_logins"


class UnlockForm(forms.Form):
    kind = forms.ChoiceField(choices=[("username", "Username"), ("address", "Address")])
    value = forms.CharField(max_length=255)


@login_required
@permission_required(P_UNLOCK, raise_exception=True)
def lockouts(request):
    if request.method == "POST":
        form = UnlockForm(request.POST)
        if form.is_valid():
            kind, value = form.cleaned_data["kind"], form.cleaned_data["value"]
            lift_lockout(kind=kind, value=value, actor=request.user)
            what = "Username" if kind == "username" else "Address"
            messages.success(request, f"{what} {value} may sign in again.")
        else:
            messages.error(request, "Nothing to unlock: choose a lockout from the list.")
        return redirect("lockouts")
    return render(request, "security/lockouts.html", {"lockouts": current_lockouts()})
