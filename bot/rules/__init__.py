"""The rules of onboarding. Nothing here imports telegram, tinydb or jinja2."""
