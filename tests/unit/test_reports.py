"""The reviewers' CSV: what a row shows while changes are requested."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from bot.rules.models import Registration, Role, Status
from bot.services.reports import registrations_csv

AT = datetime(2026, 11, 30, 2, 0, 5, tzinfo=UTC)


def test_a_row_shows_what_was_submitted_not_edits_in_progress() -> None:
    editing = Registration(
        id="7-isv",
        user_id=7,
        role=Role.ISV,
        status=Status.CHANGES_REQUESTED,
        answers={"company_name": "Half-typed new name"},
        reviewed_answers={"company_name": "As Submitted Ltd"},
        created_at=AT,
        submitted_at=AT,
    )
    draft = Registration(id="8-isv", user_id=8, role=Role.ISV, answers={"company_name": "X"})
    data = registrations_csv([editing, draft]).decode("utf-8-sig")
    [row] = list(csv.DictReader(io.StringIO(data)))
    assert row["company_name"] == "As Submitted Ltd" and "Half-typed" not in data
    assert row["submitted_at"] == "2026-11-30 10:00:05"
