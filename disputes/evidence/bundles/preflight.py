"""Preflight: does a rendered bundle fit its channel, and if not, what would make it fit.

``fit`` renders at the top rung of the recompression ladder, checks, and steps down the ladder
(lower resolution, lower JPEG quality) while the bundle is too large. It stops at the first rung
under the channel's recommended size (or its limit when it recommends none); when only the hard
limit can be met it keeps the first rung under it and says so. When no rung fits, the verdict
names the items to remove or split, largest first, with their sizes and pages.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from .profiles import Profile, Rung

if TYPE_CHECKING:  # the renderer loads WeasyPrint and pypdf: only where a bundle is made
    from .render import BundleRenderer, Rendered, Section


def megabytes(size: int) -> str:
    """Sizes as channels state them: decimal megabytes ("14.5 MB")."""
    if size < 100_000:
        return f"{max(1, round(size / 1000))} KB"
    return f"{size / 1_000_000:.1f} MB"


@dataclass(slots=True)
class Removal:
    title: str
    bytes: int
    pages: int

    def __str__(self) -> str:
        pages = f"{self.pages} page{'s' if self.pages != 1 else ''}"
        return f"{self.title} (about {megabytes(self.bytes)}, {pages})"


@dataclass(slots=True)
class Verdict:
    """What preflight says about one rendered bundle against one channel."""

    fits: bool
    channel: str
    channel_label: str
    size: int
    pages: int
    rung: str
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    tried: list[str] = field(default_factory=list)

    @property
    def headline(self) -> str:
        size = f"{megabytes(self.size)}, {self.pages} page{'s' if self.pages != 1 else ''}"
        if self.fits:
            return f"Fits {self.channel_label}: {size}."
        return f"Does not fit {self.channel_label}: {size}."

    def lines(self) -> list[str]:
        lines = [self.headline, *self.problems, *self.warnings]
        if self.remove:
            lines.append("Remove or split: " + "; ".join(self.remove) + ".")
        return lines

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Verdict:
        names = cls.__dataclass_fields__
        return cls(**{key: value for key, value in data.items() if key in names})


def check(rendered: Rendered, profile: Profile) -> tuple[list[str], list[str]]:
    """(problems that refuse the bundle, warnings) for ``rendered`` on ``profile``."""
    problems, warnings = list(rendered.problems), list(rendered.warnings)
    if profile.max_bytes and rendered.size > profile.max_bytes:
        problems.append(
            f"The file is {megabytes(rendered.size)}; {profile.label} takes at most "
            f"{megabytes(profile.max_bytes)}."
        )
    elif profile.recommended_bytes and rendered.size > profile.recommended_bytes:
        warnings.append(
            f"The file is {megabytes(rendered.size)}, above the "
            f"{megabytes(profile.recommended_bytes)} {profile.label} recommends."
        )
    if profile.max_pages and rendered.pages > profile.max_pages:
        problems.append(
            f"{rendered.pages} pages; {profile.label} takes at most {profile.max_pages}."
        )
    if profile.fee_free_pages and rendered.pages > profile.fee_free_pages:
        extra = rendered.pages - profile.fee_free_pages
        warnings.append(
            f"{rendered.pages} pages: {extra} above the {profile.fee_free_pages} "
            f"{profile.label} takes before charging per page."
        )
    return problems, warnings


def _too_big(rendered: Rendered, limit: int | None) -> bool:
    return bool(limit) and rendered.size > limit


def fit(
    renderer: BundleRenderer, profile: Profile, ladder: tuple[Rung, ...]
) -> tuple[Rendered, Verdict]:
    """Render down the ladder until the bundle fits ``profile``; returns the bundle kept and
    its verdict. Only images are recompressed; text and merged PDFs stay as they are."""
    rungs = profile.ladder(ladder)
    tried, kept = [], None
    for rung in rungs:
        rendered = renderer.render(rung)
        tried.append(f"{rung}: {megabytes(rendered.size)}")
        if kept is None and not _too_big(rendered, profile.max_bytes):
            kept = rendered
        if not _too_big(rendered, profile.target_bytes) or not _has_images(renderer):
            break
    kept = kept or rendered
    problems, warnings = check(kept, profile)
    if len(tried) > 1:
        warnings.append(f"Images recompressed to {kept.rung} to fit.")
    verdict = Verdict(
        fits=not problems,
        channel=profile.name,
        channel_label=profile.label,
        size=kept.size,
        pages=kept.pages,
        rung=str(kept.rung),
        problems=problems,
        warnings=warnings,
        tried=tried,
    )
    if problems:
        verdict.remove = [str(r) for r in removals(kept, profile)]
    return kept, verdict


def _has_images(renderer: BundleRenderer) -> bool:
    return any(p.frames for p in renderer.prepared or ())


def removals(rendered: Rendered, profile: Profile) -> list[Removal]:
    """The fewest items, largest first, whose removal brings the bundle within the limits;
    unreadable items are always named."""
    sections = rendered.item_sections()
    chosen: dict[int, Section] = {}
    problem_titles = {p.split(" (")[0] for p in rendered.problems}
    for section in sections:
        if section.title in problem_titles:
            chosen[section.item] = section
    if profile.max_bytes:
        _pick(chosen, sections, rendered.size - profile.max_bytes, key="bytes")
    if profile.max_pages:
        _pick(chosen, sections, rendered.pages - profile.max_pages, key="pages")
    return [Removal(s.title, s.bytes, s.pages) for s in chosen.values()]


def _pick(chosen: dict[int, Section], sections: list[Section], excess: int, *, key: str) -> None:
    excess -= sum(getattr(s, key) for s in chosen.values())
    for section in sorted(sections, key=lambda s: getattr(s, key), reverse=True):
        if excess <= 0:
            return
        if section.item not in chosen:
            chosen[section.item] = section
            excess -= getattr(section, key)
