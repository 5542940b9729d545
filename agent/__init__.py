"""Schooner agent."""
