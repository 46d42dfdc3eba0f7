"""Peer suite: Polygraphy, unchanged, as a client of each simulated release."""
