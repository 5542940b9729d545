"""Schooner apiserver."""
