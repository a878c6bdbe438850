"""Hostile names and paths against the file store: files are named by their SHA-256, never by
anything a user sends, and ``read`` never returns a file outside ``DATA_DIR/files`` whatever
path it is given (``../``, absolute paths, NUL, very long names, symlinks)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.files import FileStore

SECRET = b"outside the file store"
OWNER = 4242

#: Path pieces that have let paths escape somewhere.
PIECES = [
    "..", ".", "/", "//", "\\", "..\\", "files", "ab", "\x00", "~", "%2e%2e", "%2f", "\u2024",
    "\uff0e\uff0e", "\u2215", "C:", "\\\\?\\", "con", "secret", ".lock", "a" * 300, "\n", " ",
]  # fmt: skip

hostile_path = st.lists(st.sampled_from(PIECES) | st.text(max_size=6), max_size=12).map("".join)

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    """A file store in ``tmp_path/data``, with secrets beside it and beside its folder."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (tmp_path / "secret").write_bytes(SECRET)
    (data_dir / "secret").write_bytes(SECRET)  # in DATA_DIR, but not a stored file
    return FileStore(data_dir)


def inside(store: FileStore, path: Path) -> bool:
    return path.resolve().is_relative_to(store.root.resolve())


@FUZZ
@given(data=st.binary(max_size=256), extension=st.text(max_size=12))
def test_files_are_named_by_their_sha256_only(
    store: FileStore, data: bytes, extension: str
) -> None:
    try:
        digest, relative = store.put(data, extension, OWNER)
    except ValueError:
        assert not extension.isalnum()  # "../x", "", "p\x00df", "a/b" …
        return
    except OSError:
        assert len(extension.encode()) > 150  # too long a name for the file system
        return
    assert digest == hashlib.sha256(data).hexdigest()
    assert relative == f"files/{OWNER % 256:02x}/{OWNER}/{digest}.{extension}"
    assert inside(store, store.data_dir / relative)
    assert store.read(relative) == data


def test_extensions_that_are_paths_are_refused(store: FileStore) -> None:
    for extension in ("../../x", "pdf/..", "/etc/passwd", "p\x00df", "", ".", "a b", "ab\n"):
        with pytest.raises(ValueError):
            store.put(b"%PDF-", extension, OWNER)
    assert sorted(p.name for p in store.data_dir.iterdir()) == ["secret"]  # nothing written


def test_the_same_content_is_stored_once(store: FileStore) -> None:
    first = store.put(b"%PDF-1.7 same", "pdf", OWNER)
    assert store.put(b"%PDF-1.7 same", "pdf", OWNER) == first
    assert len(list(store.root.rglob("*"))) == 3  # shard folder, user folder, one file


@pytest.mark.parametrize(
    "path",
    [
        "../secret",
        "secret",
        "files/../secret",
        "files/../../secret",
        "files/ab/../../../secret",
        "./files/./../secret",
        "/etc/passwd",
        "//etc/passwd",
        "files/../files/../../secret",
        "files/ab/\x00/../../secret",
        "files/" + "../" * 50 + "etc/passwd",
        ".lock",
        "",
        ".",
    ],
)
def test_read_refuses_paths_outside_the_file_store(store: FileStore, path: str) -> None:
    with pytest.raises(ValueError):
        store.read(path)


def test_read_refuses_an_absolute_path_to_a_real_file(store: FileStore, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        store.read(str(tmp_path / "secret"))


def test_read_does_not_follow_a_symlink_out(store: FileStore, tmp_path: Path) -> None:
    _, relative = store.put(b"\x89PNG\r\n\x1a\n", "png", OWNER)
    link = store.root / "ab" / "link.pdf"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(tmp_path / "secret")
    with pytest.raises(ValueError):
        store.read("files/ab/link.pdf")
    assert store.read(relative) == b"\x89PNG\r\n\x1a\n"


def test_very_long_names_are_refused_without_escaping(store: FileStore) -> None:
    for path in ("files/" + "a" * 10_000, "files/ab/" + "é" * 300 + ".pdf", "a/" * 3000):
        with pytest.raises((ValueError, OSError)):
            store.read(path)


@FUZZ
@given(path=hostile_path)
def test_read_never_returns_anything_outside_the_file_store(store: FileStore, path: str) -> None:
    store.put(b"%PDF-1.7 stored", "pdf", OWNER)
    try:
        data = store.read(path)
    except (ValueError, OSError):
        return  # refused, or nothing there
    assert data != SECRET
    assert inside(store, store.data_dir / path)
