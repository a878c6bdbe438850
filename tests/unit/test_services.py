"""The services handlers use, on their own over the in-memory storage (uploads over a real
file store): what each keeps, refuses and hands back, without Telegram."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.offline import samples
from bot.rules import form, reasons, validators
from bot.rules.models import Channel, Delivery, Registration, Role, Status
from bot.services import outbox
from bot.services.accounts import AccountService
from bot.services.change_requests import (
    DRAFTS,
    REASON_CHARS,
    AwaitedAnswer,
    ChangeRequestDraft,
    ReviewerDrafts,
)
from bot.services.outbox import Deliveries, Outcome
from bot.services.reports import CSV_COLUMNS, Reports
from bot.services.review import ReviewService
from bot.services.uploads import Uploads
from bot.telegram_html import MAX_DOWNLOAD
from storage.files import FileStore
from storage.memory import MemoryStorage

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
JPEG, PDF = samples.jpeg(), samples.pdf()


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def storage() -> MemoryStorage:
    return MemoryStorage()


def submitted(storage: MemoryStorage, user_id: int, **answers: str) -> Registration:
    """A submitted third-party developer's registration, stored."""
    registration = Registration(
        id=Registration.make_id(user_id, Role.ISV),
        user_id=user_id,
        role=Role.ISV,
        status=Status.SUBMITTED,
        answers={"company_name": f"Test {user_id} Ltd", "admin_email": f"dev{user_id}@x.cn"}
        | answers,
        created_at=NOW,
        submitted_at=NOW,
    )
    storage.registrations.save(registration)
    return registration


# -- accounts ----------------------------------------------------------------------------
def test_an_account_keeps_the_chosen_language_and_a_valid_phone(storage: MemoryStorage) -> None:
    accounts = AccountService(storage, Clock())
    accounts.ensure(7, language_code="en-GB")
    accounts.set_locale(7, "zh")
    with pytest.raises(validators.Invalid):
        accounts.bind_phone(7, "12345")
    accounts.bind_phone(7, "13912340001")
    kept = AccountService(storage, Clock()).get(7)
    assert kept is not None and kept.locale == "zh" and kept.phone == "13912340001"


# -- reviewers' change-request drafts and awaited answers --------------------------------
def test_a_change_request_draft_toggles_fields_and_forgets_an_unpicked_reason(
    storage: MemoryStorage,
) -> None:
    drafts = ReviewerDrafts(storage.kv)
    draft = ChangeRequestDraft()
    draft.toggle("licence")
    draft.toggle("description")
    draft.reasons["licence"] = reasons.from_catalogue(0)
    assert draft.missing() == [1]
    drafts.save(501, "7-isv", draft)
    again = drafts.get(501, "7-isv")
    assert again == draft
    assert drafts.get(502, "7-isv") is None  # another reviewer's draft is their own
    again.toggle("licence")
    assert again.fields == ["description"] and again.reasons == {}
    drafts.discard(501, "7-isv")
    assert drafts.get(501, "7-isv") is None


def test_a_typed_reason_is_trimmed_and_needs_the_draft(storage: MemoryStorage) -> None:
    drafts = ReviewerDrafts(storage.kv)
    assert drafts.give_reason(501, "7-isv", "licence", "blurred") is None
    drafts.save(501, "7-isv", ChangeRequestDraft(fields=["licence"]))
    given = drafts.give_reason(501, "7-isv", "licence", "  " + "x" * 900 + "  ")
    assert given is not None and given.reasons["licence"] == "x" * REASON_CHARS
    assert given.missing() == []


def test_drafts_stored_before_the_model_still_read(storage: MemoryStorage) -> None:
    """Drafts written as plain dicts by an earlier version keep working after an update."""
    storage.kv.put(DRAFTS, "501:7-isv", {"fields": ["licence"], "reasons": {"licence": "x"}})
    draft = ReviewerDrafts(storage.kv).get(501, "7-isv")
    assert draft == ChangeRequestDraft(fields=["licence"], reasons={"licence": "x"})


def test_an_awaited_answer_is_taken_once(storage: MemoryStorage) -> None:
    drafts = ReviewerDrafts(storage.kv)
    drafts.expect(501, 42, AwaitedAnswer(action="reason", id="7-isv", field="licence"))
    assert drafts.awaited(502, 42) is None  # someone else's reply to the question
    awaited = drafts.awaited(501, 42)
    assert awaited == AwaitedAnswer(action="reason", id="7-isv", field="licence")
    drafts.answered(501, 42)
    assert drafts.awaited(501, 42) is None


# -- the outbox's bookkeeping -------------------------------------------------------------
def with_card(storage: MemoryStorage, clock: Clock) -> Registration:
    registration = submitted(storage, 9, licence={"file_id": "f1", "size": 3})  # type: ignore[arg-type]
    card = outbox.notification(registration, "card", Channel.CHAT, "-1001", clock())
    outbox.add(registration, card)
    storage.registrations.save(registration)
    return registration


def test_a_sent_card_is_followed_by_its_documents(storage: MemoryStorage) -> None:
    clock = Clock()
    deliveries = Deliveries(storage.registrations, clock)
    registration = with_card(storage, clock)
    [(rid, card)] = list(deliveries.due())
    deliveries.record(rid, card.id, Outcome("sent"), message_id=77)
    stored = storage.registrations.get(rid)
    assert stored is not None and stored.card_message_id == 77
    [sent] = [n for n in stored.outbox if n.template == "card"]
    assert sent.state is Delivery.SENT and sent.attempts == 1
    due = [note for _, note in deliveries.due()]
    assert [n.template for n in due] == ["document-licence"]
    # Sent as a reply to the card (its message id is read when the document is sent).
    assert due[0].params["after"] == card.id and registration.id == rid


def test_a_failed_attempt_waits_and_a_blocked_recipient_is_not_retried(
    storage: MemoryStorage,
) -> None:
    clock = Clock()
    deliveries = Deliveries(storage.registrations, clock)
    registration = with_card(storage, clock)
    [(rid, card)] = list(deliveries.due())
    deliveries.record(rid, card.id, Outcome("retry", timedelta(seconds=30)), None)
    assert list(deliveries.due()) == []  # not before Telegram's retry_after
    clock.now += timedelta(seconds=30)
    [(_, again)] = list(deliveries.due())
    deliveries.record(rid, again.id, Outcome("blocked", "Forbidden"), None)
    clock.now += timedelta(days=1)
    assert list(deliveries.due()) == []
    stored = storage.registrations.get(registration.id)
    assert stored is not None and stored.outbox[0].state is Delivery.BLOCKED


# -- reports and search follow the form ---------------------------------------------------
def test_the_export_has_a_column_per_listed_field_and_no_id_numbers(
    storage: MemoryStorage,
) -> None:
    submitted(storage, 11, credit_code="91330100MA0000001X", legal_id_number="110105199003070011")
    rows = list(
        csv.reader(
            io.StringIO(Reports(storage.registrations).registrations_csv().decode("utf-8-sig"))
        )
    )
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [c for c in CSV_COLUMNS if c in form.FIELDS] == list(form.LISTED)
    assert "91330100MA0000001X" in rows[1] and "110105199003070011" not in ",".join(rows[1])


def test_activity_counts_submissions_by_china_date(storage: MemoryStorage) -> None:
    submitted(storage, 12)
    data = Reports(storage.registrations).activity(date(2026, 11, 30))
    assert sum(data.submitted) == 1 and data.submitted[-1] == 1 and data.median_hours is None


def test_find_searches_the_listed_fields_of_submitted_registrations(
    storage: MemoryStorage,
) -> None:
    submitted(storage, 13, credit_code="91330100MA0000013Q")
    draft = Registration(
        id="14-isv", user_id=14, role=Role.ISV, answers={"company_name": "Test 14 Ltd"}
    )
    storage.registrations.save(draft)
    review = ReviewService(
        storage,
        Clock(),
        claim_for=timedelta(hours=2),
        email=True,
        china_today=lambda: date(2026, 11, 30),
    )
    assert [r.id for r in review.find("MA0000013")] == ["13-isv"]
    assert [r.id for r in review.find("dev13@X.CN")] == ["13-isv"]
    assert review.find("Test 14") == []  # drafts are not the reviewers' business


# -- uploads ------------------------------------------------------------------------------
def test_an_upload_is_kept_by_content_in_its_uploaders_folder(tmp_path: Path) -> None:
    uploads = Uploads(FileStore(tmp_path))
    kept = uploads.accept(
        PDF, owner=21, file_id="f", file_unique_id="u", file_name="../../etc/passwd.pdf"
    )
    assert kept.mime_type == "application/pdf" and kept.size == len(PDF)
    assert (tmp_path / kept.stored_as).read_bytes() == PDF
    assert "passwd" not in kept.stored_as and kept.stored_as.endswith(f"{kept.sha256}.pdf")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"MZ\x90\x00 not a picture", "document.unreadable"),  # named .jpg: not readable
        (JPEG + bytes(MAX_DOWNLOAD), "document.too_big"),
    ],
)
def test_an_upload_that_is_not_a_jpeg_png_or_pdf_or_too_big_is_refused(
    tmp_path: Path, data: bytes, code: str
) -> None:
    with pytest.raises(validators.Invalid) as refused:
        Uploads(FileStore(tmp_path)).accept(
            data, owner=22, file_id="f", file_unique_id="u", file_name="x.jpg"
        )
    assert refused.value.code == code
    assert not (tmp_path / "files").exists()
