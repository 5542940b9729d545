"""Shared machinery for every Schooner component: object model, client, informer, work queue."""
