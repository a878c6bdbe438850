"""Onboarding assistant: developer registration on an e-commerce open platform, in Telegram."""
