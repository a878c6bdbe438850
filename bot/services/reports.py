"""Reviewers' reports: a CSV of registrations and a chart of submissions and decisions.

Both scan every registration (O(n)); they are rare, explicit requests, unlike the queue,
which is served from an index.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bot.rules import form
from bot.rules.models import Registration, Status
from bot.rules.workdays import CHINA, china_date
from storage.protocols import RegistrationRepository

#: The answers exported are the form's listed fields (``Field.listed``), in its order.
#: Registrations are named by their public number (the id holds the Telegram user id).
CSV_COLUMNS = (
    "number",
    "role",
    "status",
    *form.LISTED,
    "created_at",
    "submitted_at",
    "due_date",
    "decided_at",
    "round",
)


def registrations_csv(registrations: Iterable[Registration]) -> bytes:
    """Submitted registrations with statuses and timestamps as CSV (UTF-8 with BOM, for Excel).

    Only what reviewers were sent: drafts never submitted are left out (reviewers were never
    meant to see them, and /delete removes them), and while changes are requested the row
    shows the answers as submitted, not the applicant's edits in progress. ID numbers and
    documents are left out: the export is for tracking, not identities. Times are China time
    to the second, as in the chat."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    submitted = (r for r in registrations if r.status is not Status.DRAFT)
    for r in sorted(submitted, key=lambda r: r.created_at):
        answers = r.reviewed_answers if r.status is Status.CHANGES_REQUESTED else None
        answers = answers or r.answers
        writer.writerow(
            [
                r.number,
                r.role.value,
                r.status.value,
                *(_cell(answers.get(key)) for key in form.LISTED),
                _china_time(r.created_at),
                _china_time(r.submitted_at),
                r.due_date.isoformat() if r.due_date else "",
                _china_time(r.decided_at),
                r.round,
            ]
        )
    return out.getvalue().encode("utf-8-sig")


def _china_time(moment: datetime | None) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@dataclass(frozen=True)
class Activity:
    """Submissions and decisions per day (China dates) and the median time to decision."""

    days: list[date]
    submitted: list[int]
    decided: list[int]
    median_hours: float | None


def activity(registrations: Iterable[Registration], today: date, span: int = 30) -> Activity:
    """The last ``span`` days of activity, from each registration's latest timestamps."""
    start = today - timedelta(days=span - 1)
    days = [start + timedelta(days=i) for i in range(span)]
    submitted: Counter[date] = Counter()
    decided: Counter[date] = Counter()
    waits: list[float] = []
    for r in registrations:
        if r.submitted_at is not None:
            submitted[china_date(r.submitted_at)] += 1
        if r.decided_at is not None and r.status in (
            Status.APPROVED,
            Status.REJECTED,
            Status.CHANGES_REQUESTED,
            Status.REMOVED,
        ):
            decided[china_date(r.decided_at)] += 1
            if r.submitted_at is not None and r.decided_at >= r.submitted_at:
                waits.append((r.decided_at - r.submitted_at).total_seconds() / 3600)
    return Activity(
        days=days,
        submitted=[submitted[d] for d in days],
        decided=[decided[d] for d in days],
        median_hours=statistics.median(waits) if waits else None,
    )


def activity_chart(
    data: Activity, title: str, labels: tuple[str, str], family: str | None = None
) -> bytes:
    """A PNG bar chart of submissions and decisions per day; its title and legend in the
    font ``family`` when given (one with CJK glyphs: see ``chart_font``), DejaVu otherwise
    (the tick labels are dates and numbers)."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a server
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator

    font: dict[str, Any] = {} if family is None else {"family": [family, "DejaVu Sans"]}
    figure, axes = plt.subplots(figsize=(9, 4), dpi=100)
    try:
        x = list(range(len(data.days)))
        axes.bar([i - 0.2 for i in x], data.submitted, width=0.4, label=labels[0])
        axes.bar([i + 0.2 for i in x], data.decided, width=0.4, label=labels[1])
        ticks = x[:: max(1, len(x) // 10)]
        axes.set_xticks(ticks, [data.days[i].strftime("%m-%d") for i in ticks])
        axes.set_title(title, fontdict=font)
        axes.legend(prop=font)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png")
        return out.getvalue()
    finally:
        plt.close(figure)


class Reports:
    """The reports over every stored registration (a full scan each: callers run them in a
    worker thread, beside the event loop)."""

    def __init__(self, registrations: RegistrationRepository) -> None:
        self._registrations = registrations

    def registrations_csv(self) -> bytes:
        return registrations_csv(self._registrations.all())

    def activity(self, today: date, span: int = 30) -> Activity:
        return activity(self._registrations.all(), today, span)
