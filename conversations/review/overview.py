"""What reviewers see of all registrations at once: ``/export`` (CSV), ``/stats`` (a chart)
and the daily digest of registrations near or past their deadline."""

from __future__ import annotations

import asyncio

from telegram import InputFile, Update

from bot.rules.workdays import china_date
from bot.services import chart_font, reports
from conversations import presenter
from conversations.common import Context
from conversations.review import cards


# -- reports and deadlines -------------------------------------------------------------
async def export(update: Update, context: Context) -> None:
    """/export: every registration with status and timestamps, as a CSV document."""
    turn = cards.turn_of(update, context)
    data = await asyncio.to_thread(context.services.reports.registrations_csv)
    chat = update.effective_chat
    assert chat is not None
    await chat.send_document(
        InputFile(data, filename="registrations.csv"),
        caption=turn.t("review.export_caption"),
    )


async def stats(update: Update, context: Context) -> None:
    """/stats: a chart of submissions and decisions per day, with the median wait."""
    services = context.services
    today = china_date(services.clock())
    data = await asyncio.to_thread(services.reports.activity, today)
    turn = cards.turn_of(update, context)
    # The group's language in the picture too, given a font with its glyphs (else English).
    family = await asyncio.to_thread(chart_font.cjk_family)
    words = turn if family is not None else turn.in_language("en")
    labels = (words.plain("review.stats_submitted"), words.plain("review.stats_decided"))
    png = await asyncio.to_thread(
        reports.activity_chart, data, words.plain("review.stats_title"), labels, family
    )
    median = None if data.median_hours is None else round(data.median_hours, 1)
    chat = update.effective_chat
    assert chat is not None
    await chat.send_photo(
        InputFile(png, filename="stats.png"),
        caption=turn.t(
            "review.stats_caption",
            submitted=sum(data.submitted),
            decided=sum(data.decided),
            median=median,
        ),
    )


async def digest(context: Context) -> None:
    """The daily list of registrations near or past 3 working days (nothing if none)."""
    services = context.services
    admin = services.settings.ADMIN_CHAT_ID
    items = services.review.overdue()
    if admin is None or not items:
        return
    text = services.texts.render(
        services.settings.DEFAULT_LOCALE,
        "review_digest",
        items=items,
        holder=lambda r: presenter.who(services, services.review.holder(r)),
    )
    await context.bot.send_message(admin, text)
