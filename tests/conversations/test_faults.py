"""scratch"""
from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from conftest import REVIEWERS, BotHarness
from journey import Applicant, fill_form, reach_form, texts

from storage import atomic


class _FillingFile:
    def __init__(self, handle: Any) -> None:
        self._handle = handle

    def __enter__(self) -> _FillingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()

    def write(self, data: bytes) -> int:
        self._handle.write(data[: len(data) // 2])
        self._handle.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


class Disk:
    def __init__(self) -> None:
        self.full = False
        self.allow = 0
        self.writes = 0
        self.refused = 0

    def fdopen(self, fd: int, *args: Any, **kwargs: Any) -> Any:
        handle = os.fdopen(fd, *args, **kwargs)
        self.writes += 1
        if self.full:
            if self.allow > 0:
                self.allow -= 1
                return handle
            self.refused += 1
            return _FillingFile(handle)
        return handle

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> Disk:
    d = Disk()
    monkeypatch.setattr(atomic, "os", d)
    return d


async def test_explore(harness: BotHarness, disk: Disk) -> None:
    h = harness
    h.kit.raise_errors = False
    a = h.kit.user(301, language_code="en")
    b = h.kit.user(302, language_code="zh")
    await reach_form(a, "Third-party developer", zh=False)
    await reach_form(b, "第三方开发者")
    await a.send("Wei Zhang")
    disk.full = True
    r = await a.press("Mainland resident ID card")
    print("PRESS", texts(r), a.last_answer, h.kit.errors, h.kit.unanswered_callbacks)
    r = await b.send("/status")
    print("STATUS", texts(r))
    r = await b.send("张伟")
    print("B", texts(r), h.kit.errors)
    disk.full = False
    r = await a.press("Mainland resident ID card")
    print("PRESS2", texts(r), a.last_answer)
    h.kit.errors.clear()


async def test_explore_partial(harness: BotHarness, disk: Disk) -> None:
    h = harness
    h.kit.raise_errors = False
    a = h.kit.user(311, language_code="en")
    app = Applicant(311, zh=False)
    await reach_form(a, "Third-party developer", zh=False)
    ans = dict(app.answers)
    app.answers["admin_account_id"] = "x"  # stop before? fill all but last
    await fill_form(a, app, zh=False)
    reg = h.store.registrations.get("311-isv")
    print("cursor", reg.cursor, reg.answers.get("admin_email"))
    # edit e-mail from summary, with the disk filling after one write
    await a.press("Edit: Administrator")  if False else None
    print([m.buttons for m in a.messages()[-1:]])
    h.kit.errors.clear()


async def test_explore_leak(harness: BotHarness, disk: Disk) -> None:
    h = harness
    h.kit.raise_errors = False
    a = h.kit.user(321, language_code="en")
    app = Applicant(321, zh=False)
    await reach_form(a, "Third-party developer", zh=False)
    app.answers["admin_email"] = "not an email"
    await fill_form(a, app, zh=False)
    reg = h.store.registrations.get("321-isv")
    print("cursor", reg.cursor)
    disk.full, disk.allow = True, 1
    r = await a.send("first@example.com")
    print(texts(r), h.kit.errors, disk.refused)
    disk.full = False
    r = await a.send("second@example.com")
    print(texts(r))
    reg = h.store.registrations.get("321-isv")
    print(reg.answers["admin_email"], h.store.unique.owner("email", "first@example.com"), h.store.unique.owner("email", "second@example.com"))
    h.kit.errors.clear()


async def test_explore_audit(harness: BotHarness, disk: Disk) -> None:
    h = harness
    h.kit.raise_errors = False
    a = h.kit.user(331, language_code="en")
    app = Applicant(331, zh=False)
    await reach_form(a, "Third-party developer", zh=False)
    await fill_form(a, app, zh=False)
    disk.full, disk.allow = True, 1
    r = await a.press("Submit for review")
    print("SUBMIT:", texts(r), h.kit.errors, disk.refused, a.last_answer)
    disk.full = False
    r = await a.press("Submit for review")
    print("AGAIN:", texts(r), a.last_answer)
    reg = h.store.registrations.get("331-isv")
    print(reg.status, [e.action for e in h.store.audit.for_subject("331-isv")])
    await h.deliver()
    rv = h.kit.user(REVIEWERS[0], language_code="zh")
    disk.full, disk.allow = True, 1
    r = await rv.send("/approve 331-isv", chat=h.admin_group)
    print("APPROVE:", texts(r))
    disk.full = False
    r = await rv.send("/approve 331-isv", chat=h.admin_group)
    print("APPROVE2:", texts(r))
    reg = h.store.registrations.get("331-isv")
    print(reg.status, [e.action for e in h.store.audit.for_subject("331-isv")], [(n.template, n.state) for n in reg.outbox])
    h.kit.errors.clear()
