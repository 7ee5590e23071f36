"""Venue and market-data adapters: one folder per venue, the same files in each."""
