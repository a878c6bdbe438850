"""Every user-visible text, rendered from ``templates/<locale>/`` by one jinja2 Environment.

Three kinds of template live in each locale folder:

* ``*.html`` files: whole messages (Telegram HTML parse mode);
* ``*.toml`` (``strings.toml`` and one file per feature): short strings (buttons, field
  labels, prompts, errors) by dotted key, each compiled by the same Environment, so the
  same escaping rules apply;
* ``mail/<name>.html`` and ``mail/<name>.txt``: the two bodies of each e-mail.

Beside the locale folders, ``agreement.toml`` (the agreement's version) and ``faq.toml``
(the FAQ the live one is seeded from) hold what is not text.

Autoescape is on, except for the plain-text e-mail bodies: a user-typed ``<b>`` or ``&``
arrives as text. Button labels are plain text (Telegram shows them verbatim), so
``plain`` undoes the escaping for them.
"""

from __future__ import annotations

import html
import tomllib
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape
from markupsafe import Markup, escape

from bot.rules.workdays import CHINA
from bot.settings import LOCALES
from bot.telegram_html import utf16_len

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


def local_time(moment: datetime | None) -> str:
    """A stored UTC time as "YYYY-MM-DD HH:MM" in China Standard Time."""
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if moment else "-"


def clip(value: object, units: int) -> str:
    """At most ``units`` UTF-16 code units of a user's value (Telegram counts those), with
    "…" when cut; keeps the value as escaped markup when it was markup."""
    is_markup = isinstance(value, Markup)
    text = value.unescape() if isinstance(value, Markup) else str(value)
    if utf16_len(text) <= units:
        return value if isinstance(value, str) else text
    kept: list[str] = []
    used = 0
    for char in text:
        width = 2 if ord(char) > 0xFFFF else 1
        if used + width > units - 1:
            break
        kept.append(char)
        used += width
    clipped = "".join(kept) + "…"
    return escape(clipped) if is_markup else clipped


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


def _load_strings(folder: Path) -> dict[str, str]:
    """Every ``*.toml`` of a locale folder, merged; a key defined twice is an error."""
    merged: dict[str, str] = {}
    for path in sorted(folder.glob("*.toml")):
        flat = _flatten(tomllib.loads(path.read_text("utf-8")))
        twice = merged.keys() & flat.keys()
        if twice:
            raise ValueError(f"{path}: keys defined in another file too: {sorted(twice)}")
        merged.update(flat)
    return merged


class Texts:
    """Renders messages and strings for a locale. Nothing falls back silently: a missing key
    or template value is an error (caught by the template tests), never an empty message."""

    def __init__(self, root: Path = TEMPLATES_DIR) -> None:
        self.root = root
        self.env = Environment(
            loader=FileSystemLoader(root),
            # Telegram HTML and e-mail HTML are escaped; plain-text e-mail bodies are not.
            autoescape=select_autoescape(
                enabled_extensions=("html",),
                disabled_extensions=("txt",),
                default_for_string=True,
                default=True,
            ),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            # The templates do not change under a running bot: no file look-up per message.
            auto_reload=False,
        )
        self.env.globals["t"] = self._t_global
        self.env.globals["has"] = self.has
        self.env.filters["local"] = local_time
        self.env.filters["clip"] = clip
        self.strings: dict[str, dict[str, str]] = {
            locale: _load_strings(root / locale) for locale in LOCALES
        }

    def _t_global(self, locale: str, key: str, **params: Any) -> Markup:
        # Inside templates: {{ t(locale, "field.x.label") }} is already-escaped markup.
        return self.t(locale, key, **params)

    @cache  # noqa: B019 - one Texts per process; the cache lives as long as it does
    def _compiled(self, locale: str, key: str) -> Template:
        return self.env.from_string(self.strings[locale][key])

    def has(self, locale: str, key: str) -> bool:
        """Whether a short string exists."""
        return key in self.strings[locale]

    def t(self, locale: str, key: str, **params: Any) -> Markup:
        """A short string as Telegram HTML (user values escaped; safe to nest)."""
        if not params:
            return self._constant(locale, key)
        return Markup(self._compiled(locale, key).render(locale=locale, **params).strip())

    @cache  # noqa: B019 - as _compiled; bounded by the number of strings
    def _constant(self, locale: str, key: str) -> Markup:
        # Most strings (button labels, titles) take no values: render each of them once.
        return Markup(self._compiled(locale, key).render(locale=locale).strip())

    def plain(self, locale: str, key: str, **params: Any) -> str:
        """A short string as plain text, for buttons and keyboard labels."""
        return html.unescape(str(self.t(locale, key, **params)))

    def render(self, locale: str, template: str, **params: Any) -> Markup:
        """A whole message from ``templates/<locale>/<template>.html`` (safe to nest)."""
        compiled = self.env.get_template(f"{locale}/{template}.html")
        return Markup(compiled.render(locale=locale, **params).strip())

    def render_mail(self, locale: str, template: str, kind: str, **params: Any) -> str:
        """An e-mail body from ``templates/<locale>/mail/<template>.<kind>`` (txt or html)."""
        compiled = self.env.get_template(f"{locale}/mail/{template}.{kind}")
        return compiled.render(locale=locale, **params).strip() + "\n"

    def mail_names(self, locale: str) -> list[str]:
        """Names of the e-mail templates of a locale."""
        return sorted({p.stem for p in (self.root / locale / "mail").glob("*.txt")})

    def message_names(self, locale: str) -> list[str]:
        """Names of the whole-message templates of a locale (for checks and tests)."""
        return sorted(p.stem for p in (self.root / locale).glob("*.html"))
