"""The applicant in a private chat: phone, agreement, role, the form, the summary and
submission; the reminder for idle drafts. Diagram: ``applicant.mmd`` in this package."""
