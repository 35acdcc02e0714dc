"""The Textual user interface of the tchat client."""
