"""The agent's own Node: registration and status (`node_status`), the Lease heartbeat (`lease`)."""
