"""The reports' query string, parsed once into a small typed object.

``?from=YYYY-MM-DD&to=YYYY-MM-DD&network=visa&client=<slug or id>``; a missing period is the last
full quarter's worth of days (91) ending today. A value that does not parse is an error the
pages show and the API answers with 400, never a 500."""

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings

from ..choices import Network
from ..models import Client, business_today

MAX_DAYS = 3 * 366
DEFAULT_DAYS = 91
EARLIEST = date(2000, 1, 1)


class BadParameters(ValueError):
    """The query string does not describe a report; ``errors`` maps each field to its problem."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class ReportParams:
    start: date
    end: date  # inclusive
    network: str = ""
    client_id: int | None = None
    client_name: str = ""

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as aware datetimes, [start 00:00, end + 1 day 00:00) in the ops time zone."""
        zone = ZoneInfo(settings.OPS_TIME_ZONE)
        return (
            datetime.combine(self.start, time(), tzinfo=zone),
            datetime.combine(self.end + timedelta(days=1), time(), tzinfo=zone),
        )

    def previous(self) -> "ReportParams":
        """The period of the same length just before this one (for the change column)."""
        return replace(
            self, start=self.start - timedelta(days=self.days), end=self.start - timedelta(days=1)
        )

    def shifted(self, days: int) -> "ReportParams":
        return replace(
            self, start=self.start + timedelta(days=days), end=self.end + timedelta(days=days)
        )

    def query(self, **changes) -> str:
        values = {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "network": self.network,
            "client": self.client_id or "",
        }
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})

    def filters_in_words(self) -> list[tuple[str, str]]:
        words = [("Period", f"{self.start.isoformat()} to {self.end.isoformat()} (ops time zone)")]
        if self.network:
            words.append(("Network", Network(self.network).label))
        if self.client_id:
            words.append(("Client", self.client_name))
        return words


def _day(data, name: str, errors: dict) -> date | None:
    raw = data.get(name, "")
    if raw in ("", None):
        return None
    try:
        value = date.fromisoformat(str(raw)[:10]) if len(str(raw)) == 10 else None
    except ValueError:
        value = None
    if value is None:
        errors[name] = "Give a date as YYYY-MM-DD."
    elif not EARLIEST <= value <= date(2100, 12, 31):
        errors[name] = "Give a date between 2000-01-01 and 2100-12-31."
        value = None
    return value


def parse(data, *, today: date | None = None, require_period: bool = False) -> ReportParams:
    """``data`` is a QueryDict or dict. Raises BadParameters with every problem found."""
    today = today or business_today()
    errors: dict[str, str] = {}
    start, end = _day(data, "from", errors), _day(data, "to", errors)
    if require_period:
        for name, value in (("from", start), ("to", end)):
            if value is None and name not in errors:
                errors[name] = "Required: a date as YYYY-MM-DD."
    if end is None and "to" not in errors:
        end = today
    if start is None and "from" not in errors and end is not None:
        start = end - timedelta(days=DEFAULT_DAYS - 1)
    if start and end:
        if start > end:
            errors["to"] = "The end of the period is before its start."
        elif (end - start).days >= MAX_DAYS:
            errors["from"] = f"A period is at most {MAX_DAYS} days."
    network = str(data.get("network", "") or "")
    if network and network not in Network.values:
        errors["network"] = "One of: " + ", ".join(Network.values) + "."
    client_id, client_name = _client(data.get("client", ""), errors)
    if errors:
        raise BadParameters(errors)
    return ReportParams(start, end, network, client_id, client_name)


def _client(raw, errors) -> tuple[int | None, str]:
    raw = str(raw or "").strip()
    if not raw:
        return None, ""
    found = None
    if raw.isdigit() and len(raw) < 12:
        found = Client.objects.filter(pk=int(raw)).values_list("pk", "name").first()
    elif len(raw) <= 80 and "\x00" not in raw:
        found = Client.objects.filter(slug=raw).values_list("pk", "name").first()
    if found is None:
        errors["client"] = "No such client."
        return None, ""
    return found
