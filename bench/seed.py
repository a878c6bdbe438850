"""One way to seed a data folder for the benchmarks: applicants as the bot leaves them.

A data folder is pre-filled straight on disk in the store's own layout and serialiser (fast,
no fsync), its unique claims and PTB entries through the real store's API; what is written
reads back through ``TinyDBStorage``. ``answers`` are valid typed answers of one applicant,
which the flow benchmark also types.
"""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Collection, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.factory import agreement_version
from bot.rules import form
from bot.rules.models import Account, AuditEvent, Document, Registration, Role, Status
from bot.rules.validators import credit_code_check_char, resident_id_check_char
from storage.atomic import dumps
from storage.persistence import CONVERSATION_PREFIX, USER_DATA, encode_key
from storage.tinydb_store import (
    INDEXED_STATUSES,
    TinyDBStorage,
    counter_path,
    status_dir,
    user_path,
)

T0 = datetime(2026, 1, 5, tzinfo=UTC)
# Where applicants stand in a long-running bot: most are done, some wait, a few are drafts.
BACKGROUND = [
    (Status.APPROVED, 55),
    (Status.REJECTED, 10),
    (Status.DRAFT, 15),
    (Status.SUBMITTED, 8),
    (Status.IN_REVIEW, 6),
    (Status.CHANGES_REQUESTED, 4),
    (Status.RESUBMITTED, 2),
]


def resident_id(n: int, born: date) -> str:
    """A valid resident ID number (GB 11643) for sequence ``n``."""
    first17 = f"110105{born:%Y%m%d}{n % 1000:03d}"
    return first17 + resident_id_check_char(first17)


def answers(n: int, zh: bool) -> dict[str, str]:
    """Valid typed answers of applicant ``n``; e-mail and administrator id are unique per n."""
    name = "张伟" if zh else "Wei Zhang"
    credit17 = f"91330100MA{n % 10**7:07d}"
    return {
        "legal_name": name,
        "legal_id_number": resident_id(n, date(1970, 1, 1) + timedelta(days=n % 12000)),
        "company_name": f"杭州测试{n}网络科技有限公司" if zh else f"Test {n} Ltd",
        "credit_code": credit17 + credit_code_check_char(credit17),
        "business_scope": "技术开发、技术咨询、技术服务；软件开发；互联网销售"
        if zh
        else "technology development, technical consulting, software development",
        "licence_legal_rep": name,
        "description": "我们为电商商家开发订单打印和发货管理软件，已服务两千多家店铺。"
        if zh
        else "We build order printing and shipping software for online stores.",
        "admin_name": "李娜" if zh else "Na Li",
        "admin_id_number": resident_id(n + 500, date(1960, 1, 1) + timedelta(days=n % 9000)),
        "admin_mobile": f"139{n % 10**8:08d}",
        "admin_email": f"dev{n}@example.com",
        "admin_account_id": f"admin_{n}",
    }


@contextlib.contextmanager
def no_fsync() -> Iterator[None]:
    """Setup only: writes through the storage API without paying an fsync each."""
    real = os.fsync
    os.fsync = lambda fd: None
    try:
        yield
    finally:
        os.fsync = real


def stored_registration(user_id: int, status: Status, rng: random.Random) -> Registration:
    """A registration as the bot leaves it: drafts part-way, the others complete."""
    when = T0 + timedelta(seconds=user_id)
    typed: dict[str, Any] = dict(answers(user_id, zh=True))
    typed["legal_id_type"] = typed["admin_id_type"] = "resident"
    for key in ("legal_id_front", "legal_id_back", "licence"):
        digest = f"{rng.getrandbits(256):064x}"
        pdf = key == "licence"
        typed[key] = Document(
            file_id=f"AgACAgUAAxkBAAI{user_id:012d}{key}",
            file_unique_id=f"AQAD{user_id:010d}",
            file_name="licence.pdf" if pdf else None,
            mime_type="application/pdf" if pdf else "image/jpeg",
            size=rng.randrange(100_000, 3_000_000),
            sha256=digest,
            stored_as=f"files/{digest[:2]}/{digest}.{'pdf' if pdf else 'jpg'}",
        ).model_dump(mode="json")
    keys = [f.key for f in form.fields_for(Role.ISV)]
    registration = Registration(
        id=Registration.make_id(user_id, Role.ISV),
        user_id=user_id,
        role=Role.ISV,
        status=status,
        answers={k: typed[k] for k in keys},
        created_at=when,
        updated_at=when,
    )
    if status is Status.DRAFT:
        done = rng.randrange(len(keys))
        registration.answers = {k: typed[k] for k in keys[:done]}
        registration.cursor = keys[done]
    elif status is Status.CHANGES_REQUESTED:
        registration.flagged = {"licence": "营业执照照片不清晰，请重新上传。"}
        registration.cursor = "licence"
    if status is not Status.DRAFT:
        registration.submitted_at = when
        registration.due_date = (when + timedelta(days=3)).date()
    return registration


def fill(data_dir: Path, size: int, seed: int, drafts: Collection[int] = ()) -> None:
    """Write ``size`` applicants (user ids 1..size) as the bot leaves them: account,
    registration, audit events, status markers, unique claims, and PTB's user data and
    conversation state of those who are mid-form (loaded at every start, so they count).
    The users in ``drafts`` are drafts whatever the draw says (a benchmark submits them)."""
    rng = random.Random(seed)
    version = agreement_version()
    statuses = [s for s, _ in BACKGROUND]
    weights = [w for _, w in BACKGROUND]
    unique_fields = [f for f in form.fields_for(Role.ISV) if f.unique is not None]
    created: set[Path] = set()
    claims: list[tuple[str, str, str]] = []  # (kind, value, registration id)
    mid_form: list[tuple[int, str]] = []  # (user id, registration id)

    def ensure_dir(path: Path) -> None:
        if path not in created:
            path.mkdir(parents=True, exist_ok=True)
            created.add(path)

    chosen = set(drafts)
    for user_id in range(1, size + 1):
        status = rng.choices(statuses, weights)[0]
        if user_id in chosen:
            status = Status.DRAFT
        reg = stored_registration(user_id, status, rng)
        when = reg.created_at
        account = Account(
            user_id=user_id,
            language_code="zh-hans",
            phone=f"138{user_id % 10**8:08d}",
            agreement_version=version,
            agreement_accepted_at=when,
            created_at=when,
            updated_at=when,
        )
        events = [
            AuditEvent(subject=f"account:{user_id}", action="phone_bound", actor=user_id, at=when),
            AuditEvent(
                subject=f"account:{user_id}",
                action="agreement_accepted",
                actor=user_id,
                at=when,
                detail={"version": version},
            ),
            AuditEvent(subject=reg.id, action="created", actor=user_id, at=when),
        ]
        if status is not Status.DRAFT:
            events.append(AuditEvent(subject=reg.id, action="submitted", actor=user_id, at=when))
        # TinyDB's own file format: table -> {doc id: document}.
        doc = {
            "account": {"1": account.model_dump(mode="json")},
            "audit": {str(i): e.model_dump(mode="json") for i, e in enumerate(events, 1)},
            "registrations": {"1": reg.model_dump(mode="json")},
        }
        path = user_path(data_dir, user_id)
        ensure_dir(path.parent)
        path.write_bytes(dumps(doc))
        if status in INDEXED_STATUSES:
            marker = status_dir(data_dir, status) / reg.id
            ensure_dir(marker.parent)
            marker.touch()
        claims += [
            (str(f.unique), reg.answers[f.key], reg.id)
            for f in unique_fields
            if f.key in reg.answers
        ]
        if reg.cursor is not None:
            mid_form.append((user_id, reg.id))
    counter_path(data_dir).parent.mkdir(parents=True, exist_ok=True)
    counter_path(data_dir).write_bytes(dumps({"count": size, "pending": None}))

    # Claims and PTB's entries go through the public API (their file names are the store's
    # business), just without the fsyncs.
    with no_fsync(), TinyDBStorage.open(data_dir) as store:
        for kind, value, owner in claims:
            store.unique.claim(kind, value, owner)
        for user_id, rid in mid_form:
            chat = (user_id, user_id)  # a private chat's id is its user's
            store.kv.put(USER_DATA, str(user_id), {"active": rid})
            store.kv.put(CONVERSATION_PREFIX + "applicant", encode_key(chat), "form")
        # The layout written by hand must read back through the real store.
        for user_id in rng.sample(range(1, size + 1), min(size, 50)):
            found = store.registrations.get(Registration.make_id(user_id, Role.ISV))
            assert found is not None and store.accounts.get(user_id) is not None
        assert store.registrations.count() == size
    os.sync()  # the measured fsyncs must not pay for flushing the fill
