"""PostgreSQL storage: the repositories, the schema's migrations, a throwaway cluster."""

from storage.postgres.store import DatabaseInUse, DatabaseUnavailable, PostgresStorage

__all__ = ["DatabaseInUse", "DatabaseUnavailable", "PostgresStorage"]
