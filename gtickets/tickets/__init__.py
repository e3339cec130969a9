"""Tickets: masks over the params and the rules that cut them (magnitude, random, PaI, edge-popup)."""
