"""The TinyDB store's units of work (a user's changes held until the barrier) and PTB's
persistence entries in the users' files, on a real data folder."""

from __future__ import annotations

import asyncio
import errno
import os
from pathlib import Path
from typing import Any

import orjson
import pytest

from bot.rules.models import Account, utcnow
from storage.atomic import write_json_atomic
from storage.protocols import CommitFailed
from storage.tinydb_store import TinyDBStorage, _sha, user_path


def on_disk(path: Path) -> dict[str, Any]:
    stored: dict[str, Any] = orjson.loads(path.read_bytes()) if path.exists() else {}
    return stored


def account(user_id: int) -> Account:
    now = utcnow()
    return Account(user_id=user_id, language_code="en", created_at=now, updated_at=now)


def test_inside_a_unit_a_users_changes_reach_the_disk_at_the_barrier_in_one_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    replaced: list[str] = []
    real = os.replace

    def replace(src: Any, dst: Any) -> None:
        replaced.append(str(dst))
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with TinyDBStorage.open(tmp_path) as store:
        store.begin()
        store.accounts.save(account(5))
        store.kv.put("ptb.user_data", "5", {"active": "5-isv"})
        store.kv.put("ptb.conv.applicant", "5,5", "form")
        file = user_path(tmp_path, 5)
        assert not file.exists()  # held
        assert store.accounts.get(5) is not None  # and read back as it will be
        assert store.kv.get("ptb.conv.applicant", "5,5") == "form"
        asyncio.run(store.committed())
        assert replaced.count(str(file)) == 1
        stored = on_disk(file)
        assert stored["account"]["1"]["user_id"] == 5
        assert {e["namespace"]: e["value"] for e in stored["ptb"].values()} == {
            "ptb.user_data": {"active": "5-isv"},
            "ptb.conv.applicant": "form",
        }
        store.end()
        store.accounts.save(account(6))  # outside a unit: written at once
        assert user_path(tmp_path, 6).exists()
    with TinyDBStorage.open(tmp_path) as store:
        assert store.kv.items("ptb.conv.applicant") == {"5,5": "form"}
        assert store.kv.items("ptb.user_data") == {"5": {"active": "5-isv"}}


def test_a_held_write_that_fails_fails_its_unit_once_and_keeps_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with TinyDBStorage.open(tmp_path) as store:
        store.begin()
        store.accounts.save(account(7))

        def full(*args: Any, **kwargs: Any) -> Any:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        with monkeypatch.context() as patched:
            patched.setattr("storage.atomic.tempfile.mkstemp", full)
            with pytest.raises(CommitFailed) as failed:
                store.barrier()
        assert isinstance(failed.value, OSError) and failed.value.errno == errno.ENOSPC
        assert store.accounts.get(7) is None  # dropped, not half kept
        store.barrier()  # told once; what the unit does next is its own
        store.accounts.save(account(7))
        store.barrier()
    with TinyDBStorage.open(tmp_path) as store:
        assert store.accounts.get(7) is not None


def test_persistence_entries_of_an_older_folder_move_into_the_users_files(
    tmp_path: Path,
) -> None:
    old = {
        ("ptb.user_data", "8"): {"active": "8-isv"},
        ("ptb.conv.applicant", "8,8"): "summary",
        ("ptb.conv.review", "-100,501"): "deciding",  # a group chat: the reviewer's file
        ("ptb.conv.group", "-100"): "open",  # no user: stays a file of its own
        ("support.tickets", "8"): {"open": True},  # not PTB's: stays
    }
    for (namespace, key), value in old.items():
        write_json_atomic(
            tmp_path / "kv" / namespace / f"{_sha(key)}.json", {"key": key, "value": value}
        )
    with TinyDBStorage.open(tmp_path) as store:
        for (namespace, key), value in old.items():
            assert store.kv.get(namespace, key) == value
            assert store.kv.items(namespace) == {key: value}
    assert not list((tmp_path / "kv" / "ptb.user_data").iterdir())
    assert not list((tmp_path / "kv" / "ptb.conv.review").iterdir())
    assert len(list((tmp_path / "kv" / "ptb.conv.group").iterdir())) == 1
    assert len(list((tmp_path / "kv" / "support.tickets").iterdir())) == 1
    assert len(on_disk(user_path(tmp_path, 8))["ptb"]) == 2
    assert len(on_disk(user_path(tmp_path, 501))["ptb"]) == 1
    with TinyDBStorage.open(tmp_path) as store:  # again: nothing moves twice
        store.kv.delete("ptb.conv.applicant", "8,8")
        assert store.kv.items("ptb.conv.applicant") == {}
        assert store.kv.items("ptb.user_data") == {"8": {"active": "8-isv"}}
