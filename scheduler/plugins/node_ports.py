"""NodePorts: two pods cannot hold the same hostPort (protocol, IP) on one node.

Mirrors `plugins/nodeports`: PreFilter skips the check for pods without host
ports, and the filter compares the pod's ports with those the node's pods hold
(0.0.0.0 conflicts with every IP).
"""

from __future__ import annotations

from typing import ClassVar

from apimachinery.typeddicts import Pod
from scheduler.framework import (
    SKIP,
    SUCCESS,
    NodeInfo,
    Status,
    host_port_conflicts,
    pod_host_ports,
)

REASON = "node(s) didn't have free ports for the requested pod ports"


class NodePorts:
    name: ClassVar[str] = "NodePorts"

    def pre_filter(self, pod: Pod) -> Status:
        return SUCCESS if pod_host_ports(pod) else SKIP

    def filter(self, pod: Pod, node_info: NodeInfo) -> Status:
        for port in pod_host_ports(pod):
            if host_port_conflicts(port, node_info.used_ports):
                return Status.unschedulable(REASON)
        return SUCCESS
