"""Tickets: masks over the params, pruning rules, and orbax storage."""
