"""Widgets of the tchat TUI."""
