"""Services: the use cases, as plain classes over the storage protocols.

Handlers call these; they raise domain exceptions that handlers turn into messages.
"""
