"""Telegram handlers, one module per audience or flow."""
