"""Durable storage: repository protocols and their TinyDB and in-memory implementations."""
