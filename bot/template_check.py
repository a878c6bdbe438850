"""Renders every template of every locale with sample data and reports what Telegram
would refuse. Used by ``python -m bot check`` and by the template tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from jinja2 import TemplateError
from markupsafe import Markup

from bot import telegram_html
from bot.rules import numbers
from bot.rules.form import FORM
from bot.rules.models import AuditEvent, Registration, Role, Status
from bot.services.faq_book import Usage
from bot.services.faq_gaps import Asked, Gap
from bot.services.review import Waiting
from bot.settings import LOCALES
from bot.texts import Texts


def sample_registrations() -> list[Registration]:
    """Registrations in every status, as templates receive them."""
    moment = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    return [
        Registration(
            id=Registration.make_id(42, role),
            user_id=42,
            role=role,
            number=numbers.new(),
            status=status,
            updated_at=moment,
            submitted_at=moment,
            due_date=date(2026, 12, 2),
        )
        for role, status in zip(Role, Status, strict=False)
    ]


def sample_gaps(user_text: str) -> list[Gap]:
    """Open question gaps as ``faq_gaps`` receives them (one with "didn't help" votes)."""
    moment = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    asked = [
        Asked(text=user_text, language="en", at=moment, reason="no_match"),
        Asked(text="审核多久", language="zh", at=moment, reason="not_helped", topic="review"),
    ]
    return [
        Gap(
            id=3,
            text=user_text,
            language="en",
            count=5,
            not_helped=1,
            first_at=moment,
            last_at=moment,
            asked=asked,
        ),
        Gap(id=4, text=user_text, language="zh", count=1, first_at=moment, last_at=moment),
    ]


def sample_params(name: str, user_text: str = "<b>Tom & Jerry</b> 🙂") -> dict[str, Any]:
    """Parameters for one whole-message template, with ``user_text`` where users type."""
    registration = sample_registrations()[0]
    decided = registration.model_copy(update={"decision_reason": user_text, "round": 2})
    waiting = [
        Waiting(r, age) for r, age in zip(sample_registrations(), (0, 2, 3, 5, 1), strict=False)
    ]
    reasons = [(user_text, user_text), ("x", user_text)]
    events = [
        AuditEvent(subject=registration.id, action=a, actor=501, detail=d)
        for a, d in (
            ("submitted", {}),
            ("changes_requested", {"fields": {"legal_name": user_text}}),
            ("rejected", {"reason": user_text}),
            ("removed", {"reason": user_text}),
        )
    ]
    sections = [(s.key, [(f.key, user_text) for f in s.fields]) for s in FORM]
    samples: dict[str, dict[str, Any]] = {
        "start": {"name": user_text, "email": True},
        "agreement": {"email": True},
        "phone": {"notice": user_text},
        "agreement_page": {
            "body": "…",
            "page": 1,
            "pages": 2,
            "version": "1",
            "notice": user_text,
            "updated": True,
        },
        "roles": {
            "roles": list(Role),
            "available": [Role.ISV],
            "states": {Role.MERCHANT.value: Status.CHANGES_REQUESTED.value},
            "notice": user_text,
            "continuing": True,
        },
        "role_confirm": {"role": Role.MERCHANT.value, "notice": user_text},
        "reuse_offer": {
            "role": Role.MERCHANT.value,
            "source_role": Role.ISV.value,
            "source_status": Status.APPROVED.value,
            "kept_out": ["identity_account_id", "admin_email", "admin_account_id"],
            "documents": True,
            "identity": True,
            "notice": user_text,
        },
        "field": {
            "section": "legal",
            "key": "legal_name",
            "step": 1,
            "steps": 17,
            "current": user_text,
            "reason": user_text,
            "notice": user_text,
            "optional": True,
            "document": False,
            "variant": "",
        },
        "summary": {
            "role": Role.ISV.value,
            "sections": sections,
            "flagged": {"legal_name": user_text},
            "notice": user_text,
        },
        "submitted": {
            "registration": registration,
            "email": True,
            "admin_link": "https://t.me/onboarding_bot?start=adm-K7M2-X9QD-secret",
        },
        "admin_invite": {"registration": decided},
        "status": {
            "registrations": sample_registrations(),
            "reasons": {r.id: reasons for r in sample_registrations()},
            "timelines": {
                r.id: [
                    SimpleNamespace(
                        at=datetime(2026, 11, 27, 9, 30, tzinfo=UTC),
                        action=e.action,
                        general=user_text,
                        reasons=reasons,
                    )
                    for e in events
                ]
                for r in sample_registrations()
            },
        },
        "support": {"email": "support@example.com", "ticket": 17, "desk": True},
        "faq": {},
        "faq_answer": {"title": user_text, "answer": user_text},
        "faq_preview": {"label": user_text, "body": user_text},
        "faq_list": {
            "rows": [("review", user_text, Usage(3, 1, 1)), ("pay_invoice", user_text, Usage())],
            "total": 2,
            "page": 1,
            "pages": 2,
            "month": "2026-11",
        },
        "faq_gaps": {"gaps": sample_gaps(user_text), "total": 12, "titles": {"review": user_text}},
        "faq_draft": {
            "key": "review",
            "gap": 3,
            "titles": [("中文", user_text), ("English", user_text)],
            "wordings": [("中文", [user_text] * 9), ("English", [user_text])],
        },
        "ticket_faq_answer": {"ticket": 17, "title": user_text, "answer": user_text},
        "faq_offer": {
            "reason": "no_match",
            "suggestions": True,
            "desk": True,
            "carried": True,
            "email": "support@example.com",
        },
        "ticket_opened": {"ticket": 17, "question": True},
        "ticket_header": {
            "ticket": 17,
            "name": user_text,
            "username": "tom_and_jerry",
            "user_id": 42,
            "language": "en",
            "registrations": sample_registrations(),
        },
        "ticket_reply": {"ticket": 17, "text": user_text},
        "delete_plan": {
            "drafts": sample_registrations()[:1],
            "kept": sample_registrations()[1:],
        },
        "delete_done": {"deleted": sample_registrations()[:2]},
        "album": {"outcomes": [user_text, user_text]},
        "reminder": {
            "registration": decided,
            "kind": "fix",
            "reasons": reasons,
            "expires": datetime(2026, 12, 30, 3, 0, tzinfo=UTC),
            "days": 30,
        },
        "review_card": {
            "r": decided.model_copy(
                update={"confirmed": {"business_scope": ["ecommerce", "tech"]}}
            ),
            "sections": sections,
            "holder": 501,
            "language": "en",
            "related": SimpleNamespace(
                others=sample_registrations()[1:],
                isv_violation=True,
                same_code=sample_registrations()[:1],
            ),
            "changed": ["legal_name"],
            "revealed": False,
        },
        "review_queue": {
            "items": waiting,
            "total": 12,
            "page": 1,
            "pages": 2,
            "holder": lambda _r: 501,
        },
        "review_digest": {"items": waiting, "holder": lambda _r: None},
        "review_history": {
            "id": registration.number,
            "r": registration,
            "events": events,
            "total": 3,
            "who": lambda actor: Markup('<a href="tg://user?id={}">{}</a>').format(
                actor, user_text
            ),
        },
        "review_help": {"commands": ("queue", "review", "approve", "history")},
        "review_found": {"query": user_text, "found": sample_registrations(), "total": 7},
        "review_request_confirm": {"id": registration.number, "reasons": reasons},
        "decision_approved": {
            "registration": decided,
            "reasons": [],
            "email": True,
            "verify": True,
            "address": user_text,
        },
        "decision_changes_requested": {"registration": decided, "reasons": reasons},
        "decision_rejected": {"registration": decided, "reasons": []},
        "decision_removed": {"registration": decided, "reasons": []},
        "profile": {"registrations": [(decided, sections)], "phone": "*******1234"},
    }
    return samples.get(name, {})


def sample_mail_params(user_text: str = "<b>Tom & Jerry</b>") -> dict[str, Any]:
    """Parameters any e-mail template may use."""
    registration = sample_registrations()[0].model_copy(update={"decision_reason": user_text})
    return {
        "registration": registration,
        "reasons": [(user_text, user_text)],
        "params": {"old": "old@example.com", "new": user_text},
        "support": "support@example.com",
        "code": "123456",
    }


def sample_string_params(user_text: str = "<b>Tom & Jerry</b>") -> dict[str, Any]:
    """Parameters any short string may use."""
    return {
        "max": 200,
        "min": 20,
        "missing": ["ecommerce", "tech"],
        "expected": user_text,
        "field": user_text,
        "role": user_text,
        "name": user_text,
        "size": 2048,
        "phone": "*******8000",
        "version": "2026.1",
        "id": "42-isv",
        "holder": 501,
        "status": "approved",
        "submitted": 3,
        "decided": 2,
        "median": 20.5,
        "address": user_text,
        "left": 4,
        "until": datetime(2026, 11, 30, 3, 0, tzinfo=UTC),
        "date": date(2026, 12, 1),
        "code": "123456",
        "step": 3,
        "steps": 17,
        "email": "support@example.com",
        "ticket": 17,
        "limit": 10,
        "mention": Markup('<a href="tg://user?id=42">{}</a>').format(user_text),
        "language": "English",
        "current": user_text,
        "problem": user_text,
        "gap": 3,
        "text": user_text,
        "entry": "review",
        "title": user_text,
        "what": user_text,
        "length": 3001,
        "wording": user_text,
        "answered": 4,
        "count": 2,
        "fields": [user_text, "x"],
        "reason": user_text,
        "link": "https://t.me/onboarding_bot?start=adm-K7M2-X9QD-0123456789abcdef",
        "company": user_text,
        "applicant": "zh",
        "round": 2,
        "other": "legal_id_front",
        "written_in": "en",
    }


def check_templates(texts: Texts, user_text: str = "<b>Tom & Jerry</b> 🙂") -> list[str]:
    """Every problem found; an empty list means every template renders and is valid."""
    found: list[str] = []
    reference = LOCALES[0]
    for locale in LOCALES[1:]:
        for key in set(texts.strings[reference]) ^ set(texts.strings[locale]):
            found.append(f"strings.toml: {key} is not in every locale")
        if texts.message_names(reference) != texts.message_names(locale):
            found.append(f"{locale}: message templates differ from {reference}")
        if texts.mail_names(reference) != texts.mail_names(locale):
            found.append(f"{locale}: e-mail templates differ from {reference}")
    for locale in LOCALES:
        for name in texts.message_names(locale):
            try:
                text = texts.render(locale, name, **sample_params(name, user_text))
            except (TemplateError, TypeError, ValueError) as error:
                found.append(f"{locale}/{name}.html: {error}")
                continue
            found += [f"{locale}/{name}.html: {p}" for p in telegram_html.problems(text)]
        for name in texts.mail_names(locale):
            for kind in ("txt", "html"):
                try:
                    texts.render_mail(locale, name, kind, **sample_mail_params(user_text))
                except (TemplateError, TypeError, ValueError) as error:
                    found.append(f"{locale}/mail/{name}.{kind}: {error}")
        for key in texts.strings[locale]:
            try:
                text = texts.t(locale, key, **sample_string_params(user_text))
            except (TemplateError, TypeError, ValueError) as error:
                found.append(f"{locale}/strings.toml {key}: {error}")
                continue
            found += [f"{locale}/strings.toml {key}: {p}" for p in telegram_html.problems(text)]
    return found
