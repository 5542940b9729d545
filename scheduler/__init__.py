"""Schooner scheduler."""
