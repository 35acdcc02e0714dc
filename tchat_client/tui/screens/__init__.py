"""Screens: each routes messages between its widgets and the client core."""
