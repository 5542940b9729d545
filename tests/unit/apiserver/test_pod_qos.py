"""A pod's QoS class counts its init containers too, as Kubernetes' GetPodQOS does."""

from __future__ import annotations

from apiserver.kinds.core.pod import _qos_class

GUARANTEED = {"limits": {"cpu": "100m", "memory": "64Mi"}}


def test_an_init_container_without_limits_makes_a_pod_burstable() -> None:
    app = {"name": "web", "image": "x", "resources": GUARANTEED}
    assert _qos_class({"spec": {"containers": [app]}}) == "Guaranteed"
    init = {"name": "init", "image": "x", "resources": {"requests": {"cpu": "10m"}}}
    assert _qos_class({"spec": {"containers": [app], "initContainers": [init]}}) == "Burstable"


def test_an_init_container_with_requests_makes_a_best_effort_pod_burstable() -> None:
    app = {"name": "web", "image": "x"}
    init = {"name": "init", "image": "x", "resources": {"requests": {"memory": "1Mi"}}}
    assert _qos_class({"spec": {"containers": [app]}}) == "BestEffort"
    assert _qos_class({"spec": {"containers": [app], "initContainers": [init]}}) == "Burstable"
