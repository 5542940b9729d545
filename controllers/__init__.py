"""Schooner controllers."""
