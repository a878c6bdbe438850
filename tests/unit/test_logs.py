"""What reaches a log line: never a token, a configured secret or a resident ID number,
neither in the message nor in the text of an exception logged with it."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable

import pytest

from bot.logs import RedactSecrets

TYPED_IDS = [
    "11010519491231002X",
    "１１０１０５１９４９１２３１００２Ｘ",  # full-width, as Chinese input methods type it
    "110105 19491231 002x",
    "1101-0519-4912-3100-2X",
]


def logged(secrets: list[str], emit: Callable[[logging.Logger], None]) -> str:
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(RedactSecrets(secrets))
    logger = logging.getLogger("test_logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        emit(logger)
    finally:
        logger.removeHandler(handler)
    return buffer.getvalue()


@pytest.mark.parametrize("number", TYPED_IDS)
def test_an_exceptions_own_text_is_redacted(number: str) -> None:
    def emit(logger: logging.Logger) -> None:
        try:
            raise ValueError(f"cannot store {number} for hunter2-secret")
        except ValueError:
            logger.exception("update %s failed", 17)

    output = logged(["hunter2-secret"], emit)
    assert "ValueError: cannot store" in output and "update 17 failed" in output
    assert number not in output and "hunter2-secret" not in output
    assert "<id-number>" in output and "<secret>" in output


@pytest.mark.parametrize("number", TYPED_IDS)
def test_id_numbers_are_masked_however_typed(number: str) -> None:
    output = logged([], lambda logger: logger.warning("text=%r", f"ID：{number}。"))
    assert number not in output and "<id-number>" in output


def test_other_numbers_are_left_alone() -> None:
    text = "chat -1001234567890 message 4242 at 2026-12-04 19:25:43 phone 13800138000"
    assert text in logged([], lambda logger: logger.warning(text))
