"""Who the offline bot is: its id, name and token (never sent anywhere; the console and tests
use it when no real token is set)."""

from typing import Any, Final

BOT_ID: Final = 1000
BOT_USERNAME: Final = "onboarding_test_bot"
OFFLINE_TOKEN: Final = f"{BOT_ID}:OFFLINE-TEST-TOKEN"
BOT_USER: Final[dict[str, Any]] = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Onboarding",
    "username": BOT_USERNAME,
}
