"""The queue's filters, declared once: the page, its CSV export and its views' counts all read
them from the URL through ``QueueFilter``.

Besides the filters, the form carries how to show the result: ``sort`` (a column, ``-`` for
descending), ``size`` (rows per page) and the keyset cursor (``after`` / ``before``). An invalid
value is reported on its field and otherwise ignored, so a stale bookmark still opens.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

import django_filters
from django import forms
from django.db.models import Q, Value
from django.db.models.lookups import LessThan

from calendar_rules import calendars

from . import selectors
from .choices import OPEN_WORK_STATES, Network, Party, Rail, Stage, WorkState
from .models import CLOSED_DISPUTE, OPEN_DISPUTE, OUR_MOVE, OVERDUE_SINCE, Dispute

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50
DEFAULT_SORT = "due"

ME, UNASSIGNED = "me", "unassigned"
OPEN, CLOSED, ANY_STATE = "", "closed", "all"

DUE_WINDOWS = [
    ("overdue", "Overdue"),
    ("today", "Due today"),
    ("3bd", "Due within 3 business days"),
    ("week", "Due this week"),
    ("later", "Due after this week"),
    ("waiting", "Waiting on the other side"),
    ("none", "No network clock"),
]


def due_window(window: str, today: date) -> Q:
    """The disputes in a due window, matching what the urgency label says of them.

    Windows count our own deadlines (internal due, on the Fed banking calendar); a counterparty's
    window is "waiting", whatever its date. Overdue also takes in disputes whose client missed
    its evidence deadline ("Past evidence deadline"). Each window is one range of an index over
    open disputes (``Dispute.Meta.indexes``), so its count reads nothing else.
    """
    ours = OUR_MOVE
    end_of_week = today + timedelta(days=6 - today.weekday())
    windows = {
        # (ours and internal due < today) or (awaiting evidence and evidence due < today)
        "overdue": Q(LessThan(OVERDUE_SINCE, Value(today))),
        "today": ours & Q(internal_due=today),
        "3bd": ours
        & Q(internal_due__gte=today, internal_due__lte=calendars.FED.add_banking_days(today, 3)),
        "week": ours & Q(internal_due__gte=today, internal_due__lte=end_of_week),
        "later": ours & Q(internal_due__gt=end_of_week),
        "waiting": Q(internal_due__isnull=False, due_party=Party.COUNTERPARTY),
        "none": Q(internal_due__isnull=True),
    }
    return windows[window]


SORTS = [
    ("due", "Internal due"),
    ("network_due", "Network due"),
    ("case", "Case"),
    ("network", "Network"),
    ("reason", "Reason"),
    ("client", "Client"),
    ("amount", "Amount"),
    ("stage", "Stage"),
    ("state", "State"),
    ("assignee", "Assignee"),
    ("received", "Received"),
]
SORT_CHOICES = [(name, label) for name, label in SORTS] + [
    (f"-{name}", f"{label} (descending)") for name, label in SORTS
]


DATE = forms.DateInput(attrs={"type": "date"})


class QueueForm(forms.Form):
    """What is not a filter: order, page size and position."""

    sort = forms.ChoiceField(choices=SORT_CHOICES, required=False)
    # The default size is the empty choice, so the usual URL carries no size.
    size = forms.TypedChoiceField(
        choices=[("" if n == DEFAULT_PAGE_SIZE else n, n) for n in PAGE_SIZES],
        coerce=int,
        empty_value=None,
        required=False,
        label="Rows",
    )
    after = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)
    before = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)


class QueueFilter(django_filters.FilterSet):
    """Filters of the dispute queue. ``clients`` is [(id, slug, name)] and ``people`` the users
    a dispute may be assigned to (both read once per page by the view)."""

    q = django_filters.CharFilter(method="filter_search", label="Search")
    network = django_filters.ChoiceFilter(choices=Network.choices, empty_label="Any network")
    rail = django_filters.ChoiceFilter(choices=Rail.choices, empty_label="Any rail")
    client = django_filters.ChoiceFilter(method="filter_client", empty_label="Any client")
    stage = django_filters.ChoiceFilter(
        choices=[c for c in Stage.choices if c[0] != Stage.CLOSED], empty_label="Any stage"
    )
    state = django_filters.ChoiceFilter(
        method="filter_state",
        empty_label="Open (any state)",
        choices=[
            *[(s, WorkState(s).label) for s in OPEN_WORK_STATES],
            (CLOSED, "Closed"),
            (ANY_STATE, "Open or closed"),
        ],
    )
    assignee = django_filters.ChoiceFilter(method="filter_assignee", empty_label="Anyone")
    due = django_filters.ChoiceFilter(
        method="filter_due", choices=DUE_WINDOWS, empty_label="Any time", label="Due"
    )
    amount_min = django_filters.NumberFilter(
        field_name="amount",
        lookup_expr="gte",
        label="Amount from",
        min_value=0,
        widget=forms.NumberInput(attrs={"placeholder": "Min", "step": "0.01"}),
    )
    amount_max = django_filters.NumberFilter(
        field_name="amount",
        lookup_expr="lte",
        label="Amount to",
        min_value=0,
        widget=forms.NumberInput(attrs={"placeholder": "Max", "step": "0.01"}),
    )
    received_from = django_filters.DateFilter(
        field_name="received_on", lookup_expr="gte", label="Received from", widget=DATE
    )
    received_to = django_filters.DateFilter(
        field_name="received_on", lookup_expr="lte", label="Received to", widget=DATE
    )

    class Meta:
        model = Dispute
        form = QueueForm
        fields = []

    def __init__(self, data=None, *, request, clients, people, today: date, **kwargs):
        super().__init__(data, request=request, **kwargs)
        self.today = today
        self.clients = list(clients)
        self.people = list(people)
        self._client_ids = {slug: pk for pk, slug, _name in self.clients}
        self._people_ids = {user.get_username(): user.pk for user in self.people}
        self.filters["client"].extra["choices"] = [(slug, name) for _pk, slug, name in self.clients]
        self.filters["assignee"].extra["choices"] = [
            (ME, "Me"),
            (UNASSIGNED, "Unassigned"),
            *[(user.get_username(), person_name(user)) for user in self.people],
        ]

    # --- reading the form ----------------------------------------------------------------------

    @property
    def cleaned(self) -> dict:
        """The valid values (call after ``is_valid()``); invalid ones are left out."""
        self.form.is_valid()
        return getattr(self.form, "cleaned_data", {})

    @property
    def sort(self) -> str:
        return self.cleaned.get("sort") or DEFAULT_SORT

    @property
    def size(self) -> int:
        return self.cleaned.get("size") or DEFAULT_PAGE_SIZE

    def filter_queryset(self, queryset):
        """Apply every valid filter; open disputes only unless a state says otherwise."""
        cleaned = self.cleaned
        return self.apply(
            queryset, {name: cleaned[name] for name in self.filters if name in cleaned}
        )

    def apply(self, queryset, values: dict):
        """Narrow ``queryset`` by filter values known to be valid (the form's cleaned values, or a
        built-in view's), so the views' counts need no filter set and form of their own."""
        if not values.get("state"):
            queryset = queryset.filter(OPEN_DISPUTE)
        for name, value in values.items():
            if value not in (None, ""):
                queryset = self.filters[name].filter(queryset, value)
        return queryset

    def filter_params(self) -> dict[str, str]:
        """The filters as given in the URL (no sort, size or cursor), empty ones left out."""
        return {
            name: str(self.data.get(name)).strip()
            for name in self.filters
            if self.data.get(name) not in (None, "")
        }

    # --- filter methods ------------------------------------------------------------------------

    def filter_state(self, queryset, name, value):
        if value == ANY_STATE:
            return queryset
        if value == CLOSED:
            return queryset.filter(CLOSED_DISPUTE)
        return queryset.filter(state=value)

    @property
    def any_state(self) -> bool:
        """Open and closed disputes alike ("Open or closed")."""
        return self.cleaned.get("state") == ANY_STATE

    @property
    def closed_only(self) -> bool:
        return self.cleaned.get("state") == CLOSED

    def filter_client(self, queryset, name, value):
        return queryset.filter(client_id=self._client_ids[value])

    def filter_assignee(self, queryset, name, value):
        if value == ME:
            return queryset.filter(assignee=self.request.user)
        if value == UNASSIGNED:
            return queryset.filter(assignee__isnull=True)
        return queryset.filter(assignee_id=self._people_ids[value])

    def filter_due(self, queryset, name, value):
        return queryset.filter(due_window(value, self.today))

    def filter_search(self, queryset, name, value):
        """Case id (prefix, any case), ARN or trace number (exact), client name (contains)."""
        if not hasattr(self, "_search"):  # the page and its count share one reference lookup
            self._search = selectors.search_matches(value, self.clients)
        return queryset.filter(self._search)


def person_name(user) -> str:
    return user.get_full_name() or user.get_username()


@dataclass(frozen=True)
class QueueView:
    """A built-in view: a name for a set of filters. Its URL is the filters themselves, so a
    view is bookmarked and shared like any filtered queue."""

    slug: str
    label: str
    params: dict = field(default_factory=dict)
    needs_perm: str = ""


VIEWS = (
    QueueView("open", "All open"),
    QueueView("mine", "My queue", {"assignee": ME}, needs_perm="disputes.claim_dispute"),
    QueueView("due-3bd", "Due within 3 business days", {"due": "3bd"}),
    QueueView("overdue", "Overdue", {"due": "overdue"}),
    QueueView("unassigned", "Unassigned", {"assignee": UNASSIGNED}),
    QueueView("awaiting-evidence", "Awaiting evidence", {"state": WorkState.AWAITING_EVIDENCE}),
    QueueView("submitted", "Submitted, awaiting decision", {"state": WorkState.SUBMITTED}),
)


def views_for(user) -> list[QueueView]:
    return [view for view in VIEWS if not view.needs_perm or user.has_perm(view.needs_perm)]
