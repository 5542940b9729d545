"""Hollow nodes (`schooner-agent --hollow N`, kubemark): N Nodes in one process, no Docker.

`run` starts and stops it all; `nodes` registers the Nodes and renews their
Leases; `pods` runs the one pod informer and writes the pods' statuses;
`addresses` names the nodes and gives out podCIDRs and pod IPs; `reported_status`
is what a hollow node reports: its machine, and its pods as running.
"""
