"""The tchat client: a headless core, a scriptable CLI and a Textual TUI."""
