"""The server's rules, free of transport: who may do what, and what follows."""
