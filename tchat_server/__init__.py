"""The tchat server: asyncio WebSockets in front, SQLite behind."""
