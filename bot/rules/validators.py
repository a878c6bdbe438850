"""Validators for the registration form: raw text in, normalized value out, or ``Invalid``.

Each validator strips the ends of its input and raises ``Invalid(code, **params)``; the code
is a template key whose text lives in the locales.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from confusable_homoglyphs import categories
from email_validator import EmailNotValidError, validate_email

from bot.rules import scope
from bot.rules.models import Role

DEFAULT_MAX = 200


class Invalid(Exception):
    """A value the applicant must correct; ``code`` names the message, ``params`` fill it."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params: dict[str, object] = dict(params)


# Characters nobody sees, which let a stored value differ from what a reviewer reads: besides
# the control (Cc) and format (Cf) categories (NUL, bidi overrides and isolates, zero-width
# spaces and joiners, the byte-order mark, soft hyphens), the blank letters used for "empty"
# names and the variation selectors.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_KEPT_CONTROLS = frozenset("\n\t")


def _visible(char: str) -> bool:
    if char in _KEPT_CONTROLS:
        return True
    if (
        char in _BLANK_LETTERS
        or "\ufe00" <= char <= "\ufe0f"
        or "\U000e0100" <= char <= "\U000e01ef"
    ):
        return False
    return unicodedata.category(char) not in ("Cc", "Cf", "Co", "Cs")


def strip_invisible(text: str) -> str:
    """``text`` without invisible control and format characters (line breaks and tabs stay)."""
    return "".join(c for c in text if _visible(c))


def _clean(text: str, max_len: int = DEFAULT_MAX, *, fold: bool = False) -> str:
    """Strip invisible characters and the ends; reject empty or over-long text; ``fold`` maps
    full-width forms to ASCII."""
    text = strip_invisible(text).strip()
    if len(text) > max_len:
        raise Invalid("text.too_long", max=max_len)
    if not text:
        raise Invalid("text.empty")
    # Chinese input methods easily produce full-width digits and letters (１３８, ＡＢ).
    return unicodedata.normalize("NFKC", text) if fold else text


# --- Resident identity card (GB 11643-1999) -------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"[0-9]{17}[0-9X]")


def resident_id_check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits of an ID number."""
    if not re.fullmatch(r"[0-9]{17}", first17):
        raise ValueError("expected 17 digits")
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def resident_id(text: str, today: date | None = None) -> str:
    """An 18-character resident ID number with a real past birth date and a valid check."""
    value = _clean(text, fold=True).upper()
    if not _ID_RE.fullmatch(value):
        raise Invalid("id.format")
    digits = value[6:14]
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise Invalid("id.birth_date") from None
    if born.year < 1900:
        raise Invalid("id.birth_date")
    if born > (today or date.today()):
        raise Invalid("id.birth_future")
    if resident_id_check_char(value[:17]) != value[17]:
        raise Invalid("id.checksum")
    return value


# --- Unified social credit code (GB 32100-2015) ---------------------------------------------

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
_CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
# Positions 3-8 are the administrative division code, always digits.
_CREDIT_RE = re.compile(rf"[{CREDIT_ALPHABET}]{{2}}[0-9]{{6}}[{CREDIT_ALPHABET}]{{10}}")


def credit_code_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a credit code."""
    if len(first17) != 17 or any(c not in CREDIT_ALPHABET for c in first17):
        raise ValueError("expected 17 characters of the credit-code alphabet")
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def credit_code(text: str) -> str:
    """An 18-character unified social credit code, upper-cased, with a valid check character."""
    value = _clean(text, fold=True).upper()
    if not _CREDIT_RE.fullmatch(value):
        raise Invalid("credit.format")
    if credit_code_check_char(value[:17]) != value[17]:
        raise Invalid("credit.checksum")
    return value


# --- Other identification, contact data -----------------------------------------------------

# Passports and HK/Macau/Taiwan permits: letters and digits, hyphens inside, at least a digit.
_OTHER_ID_RE = re.compile(r"(?=.*[0-9])[A-Z0-9][A-Z0-9-]{3,18}[A-Z0-9]")


def other_id_number(text: str) -> str:
    """A passport or permit number: 5-20 letters and digits, hyphens allowed inside."""
    value = _clean(text, 20, fold=True).upper()
    if not _OTHER_ID_RE.fullmatch(value):
        raise Invalid("other_id.invalid")
    return value


_MOBILE_RE = re.compile(r"(?:\+?86)?(1[3-9][0-9]{9})")


def mobile(text: str) -> str:
    """A mainland mobile number, returned as its 11 digits without country code."""
    value = re.sub(r"[\s-]", "", _clean(text, fold=True))
    match = _MOBILE_RE.fullmatch(value)
    if match is None:
        raise Invalid("mobile.invalid")
    return match.group(1)


# Scripts that may share one part of an address (UTS 39's "highly restrictive" level):
# Chinese, Japanese and Korean writing mixes Han with these, and with Latin letters.
_SCRIPT_MIXES = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)


def _mixed_script(part: str) -> bool:
    """Whether ``part`` mixes scripts the way look-alikes do (Cyrillic а among Latin)."""
    scripts = {categories.alias(c) for c in part} - {"COMMON", "INHERITED"}
    return len(scripts) > 1 and not any(scripts <= allowed for allowed in _SCRIPT_MIXES)


def email(text: str) -> str:
    """A syntactically valid e-mail address in normalized form (no DNS look-up). Refused:
    a local part or domain label that mixes scripts, like a Cyrillic ``а`` in ``admin``,
    which would look like somebody else's address to reviewers and in the index."""
    value = _clean(text, 254, fold=True)  # a full-width ＠ from a Chinese keyboard is common
    try:
        normalized = validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        raise Invalid("email.invalid") from None
    local, _, domain = normalized.rpartition("@")
    if any(_mixed_script(part) for part in (local, *domain.split("."))):
        raise Invalid("email.mixed_script")
    return normalized


# --- Names ----------------------------------------------------------------------------------

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134f"
_DOTS = str.maketrans(dict.fromkeys("•・‧.．", "·"))
_CHINESE_NAME_RE = re.compile(rf"[{_CJK}]+(?:·[{_CJK}]+)*")
_LATIN = r"A-Za-zÀ-ÖØ-öø-ɏ"  # Latin letters with accents, no × or ÷
_LATIN_NAME_RE = re.compile(rf"[{_LATIN}]+(?:[ '-][{_LATIN}]+)*")


def person_name(text: str) -> str:
    """A Chinese name (2-20 chars, middle dot allowed) or a Latin one (2-60 chars)."""
    try:
        value = _clean(text, 60)
    except Invalid as error:
        if error.code != "text.too_long":
            raise
        # The name's own rule (2-20 characters for a Chinese name) is what to tell, not
        # the length of the longest name of any kind.
        raise Invalid("name.invalid") from None
    if re.search(rf"[{_CJK}]", value):
        # Spaces typed between characters or around the dot are not part of the name.
        value = "".join(value.split()).translate(_DOTS)
        if 2 <= len(value) <= 20 and _CHINESE_NAME_RE.fullmatch(value):
            return value
        raise Invalid("name.invalid")
    value = " ".join(value.split()).replace("’", "'")
    if len(value) >= 2 and _LATIN_NAME_RE.fullmatch(value):
        return value
    raise Invalid("name.invalid")


def _name_key(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).casefold().split()).translate(_DOTS)


def same_name(a: str, b: str) -> bool:
    """Whether two names are the same, ignoring case, whitespace and middle-dot variants."""
    return _name_key(a) == _name_key(b)


def company_name(text: str) -> str:
    """An enterprise name: 2-100 characters including at least one letter or CJK character."""
    value = " ".join(_clean(text, 100).split())
    if len(value) < 2 or not re.search(r"[^\W\d_]", value):
        raise Invalid("company.invalid")
    return value


def account_id(text: str) -> str:
    """A platform account id: 3-32 letters, digits, ``_``, ``-`` or ``.``."""
    value = _clean(text, 32, fold=True)
    if not re.fullmatch(r"[A-Za-z0-9_.-]{3,32}", value):
        raise Invalid("account_id.invalid")
    return value


# --- Business scope and description ---------------------------------------------------------


def business_scope(text: str, role: Role) -> str:
    """The licence's business scope; it must state what ``role`` requires (see the guide),
    at least in one of the usual indirect ways (``scope.check``: the applicant confirms
    those)."""
    value = _clean(text, 2000)
    missing = scope.check(value, role).missing
    if missing:
        raise Invalid("scope.missing", missing=missing)
    return value


DESCRIPTION_MIN = 20


def description(text: str) -> str:
    """The enterprise's main business in at least one real sentence (20-1000 characters)."""
    value = _clean(text, 1000)
    if len(value) < DESCRIPTION_MIN:
        raise Invalid("description.too_short", min=DESCRIPTION_MIN)
    letters = re.findall(r"[^\W\d_]", value.casefold())
    # Keyboard filler ("啊啊啊…", "aaaa bbbb …", "1234…!!!") is not a description.
    if len(letters) < 10 or len(set(letters)) < 5:
        raise Invalid("description.not_sentence")
    return value
