"""Services as environment variables, by kubelet's rules (enableServiceLinks honoured)."""

from __future__ import annotations

from agent.podsync.envvars import build_env
from agent.podsync.serviceenv import pod_service_env, service_env, visible_services
from apimachinery.meta import Object


def service(name: str, namespace: str, ip: str, *ports: Object) -> Object:
    return {"metadata": {"name": name, "namespace": namespace},
            "spec": {"clusterIP": ip, "ports": list(ports)}}


KUBERNETES = service("kubernetes", "default", "172.28.255.1",
                     {"name": "https", "port": 443, "protocol": "TCP"})
DB = service("my-db", "team", "172.28.255.20", {"port": 5432},
             {"name": "metrics", "port": 9187, "protocol": "UDP"})
HEADLESS = service("peers", "team", "None", {"port": 80})
OTHER = service("elsewhere", "other", "172.28.255.30", {"port": 80})
ALL = [KUBERNETES, DB, HEADLESS, OTHER]


def pod(links: bool | None = None, namespace: str = "team") -> Object:
    spec: Object = {"containers": []}
    if links is not None:
        spec["enableServiceLinks"] = links
    return {"metadata": {"name": "p", "namespace": namespace}, "spec": spec}


def test_the_kubernetes_service_variables() -> None:
    assert service_env([KUBERNETES]) == {
        "KUBERNETES_SERVICE_HOST": "172.28.255.1",
        "KUBERNETES_SERVICE_PORT": "443",
        "KUBERNETES_SERVICE_PORT_HTTPS": "443",
        "KUBERNETES_PORT": "tcp://172.28.255.1:443",
        "KUBERNETES_PORT_443_TCP": "tcp://172.28.255.1:443",
        "KUBERNETES_PORT_443_TCP_PROTO": "tcp",
        "KUBERNETES_PORT_443_TCP_PORT": "443",
        "KUBERNETES_PORT_443_TCP_ADDR": "172.28.255.1",
    }


def test_names_are_upper_cased_every_port_is_linked_and_the_first_is_special() -> None:
    env = service_env([DB])
    assert env["MY_DB_SERVICE_HOST"] == "172.28.255.20"
    assert env["MY_DB_SERVICE_PORT"] == "5432"
    assert env["MY_DB_SERVICE_PORT_METRICS"] == "9187"
    assert env["MY_DB_PORT"] == "tcp://172.28.255.20:5432"
    assert env["MY_DB_PORT_9187_UDP"] == "udp://172.28.255.20:9187"
    assert env["MY_DB_PORT_9187_UDP_PROTO"] == "udp"
    assert len(env) == 2 + 1 + 1 + 4 * 2


def test_links_on_by_default_show_the_namespace_services_and_kubernetes() -> None:
    env = pod_service_env(pod(), ALL)
    assert "MY_DB_SERVICE_HOST" in env and "KUBERNETES_SERVICE_HOST" in env
    assert not any(k.startswith(("PEERS_", "ELSEWHERE_")) for k in env)


def test_links_off_leave_only_the_kubernetes_service() -> None:
    env = pod_service_env(pod(links=False), ALL)
    assert env == service_env([KUBERNETES])


def test_a_namespace_service_named_kubernetes_wins_in_its_namespace() -> None:
    own = service("kubernetes", "team", "172.28.255.99", {"port": 8443})
    assert visible_services([KUBERNETES, own], "team", True) == [own]
    assert visible_services([KUBERNETES, own], "team", False) == [KUBERNETES]


def test_the_container_env_overrides_and_may_name_service_variables() -> None:
    container = {"name": "c", "env": [
        {"name": "KUBERNETES_SERVICE_PORT", "value": "6443"},
        {"name": "DB_URL", "value": "postgres://$(MY_DB_SERVICE_HOST):$(MY_DB_SERVICE_PORT)"}]}
    env = build_env(pod(), container, lambda k, n: None, pod_ip="10.0.0.2", host_ip="10.0.0.1",
                    services=pod_service_env(pod(), ALL))
    assert env["KUBERNETES_SERVICE_PORT"] == "6443"
    assert env["DB_URL"] == "postgres://172.28.255.20:5432"
    assert env["KUBERNETES_SERVICE_HOST"] == "172.28.255.1"
