"""``make demo``: a local server with seeded people, rooms and conversation, bots
that post and type, and the TUI signed in. ``make screenshots`` drives the same."""
