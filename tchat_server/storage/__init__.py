"""All SQL lives here, behind async ``get_``/``add_`` methods. Imports no transport."""

from tchat_server.storage.db import SCHEMA_VERSION, Database, StorageUnavailable

__all__ = ["SCHEMA_VERSION", "Database", "StorageUnavailable"]
