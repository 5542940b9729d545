"""kubectl describe's Pod layout, and the Pod Template section its controllers share.

Mirrors describePod and DescribePodTemplate in k8s.io/kubectl/pkg/describe:
containers with their state, probes, environment and mounts, then volumes,
QoS class, node selectors and tolerations.
"""

from __future__ import annotations

from typing import Any

from apimachinery.meta import Object, metadata
from apimachinery.printers import since
from cli.describe._writer import (
    Context,
    Writer,
    controller_of,
    go_string,
    rfc1123,
    write_annotations,
    write_events,
    write_header,
    write_labels,
    write_meta,
)


def _port_list(ports: list[dict[str, Any]], field: str) -> str:
    return ", ".join(f"{p.get(field) or 0}/{p.get('protocol') or 'TCP'}" +
                     (f" ({p['name']})" if p.get("name") else "") for p in ports)


def _probe(probe: dict[str, Any]) -> str:
    """DescribeProbe: `http-get http://:8080/healthz delay=0s timeout=1s period=10s ...`."""
    attrs = (f"delay={probe.get('initialDelaySeconds', 0)}s "
             f"timeout={probe.get('timeoutSeconds', 1)}s period={probe.get('periodSeconds', 10)}s "
             f"#success={probe.get('successThreshold', 1)} "
             f"#failure={probe.get('failureThreshold', 3)}")
    if "exec" in probe:
        return f"exec {go_string((probe['exec'] or {}).get('command') or [])} {attrs}"
    if "httpGet" in probe:
        get = probe["httpGet"] or {}
        scheme = (get.get("scheme") or "HTTP").lower()
        return f"http-get {scheme}://{get.get('host', '')}:{get.get('port', '')}" \
               f"{get.get('path', '')} {attrs}"
    if "tcpSocket" in probe:
        tcp = probe["tcpSocket"] or {}
        return f"tcp-socket {tcp.get('host', '')}:{tcp.get('port', '')} {attrs}"
    return f"unknown {attrs}"


def _state(w: Writer, title: str, state: dict[str, Any]) -> None:
    """describeStatus: Running/Waiting/Terminated with their reason, exit code and times."""
    if state.get("running") is not None:
        w(2, f"{title}:\tRunning")
        w(3, f"Started:\t{rfc1123(state['running'].get('startedAt'))}")
    elif state.get("terminated") is not None:
        term = state["terminated"]
        w(2, f"{title}:\tTerminated")
        for label, key in (("Reason", "reason"), ("Message", "message")):
            if term.get(key):
                w(3, f"{label}:\t{term[key]}")
        w(3, f"Exit Code:\t{term.get('exitCode', 0)}")
        if term.get("signal"):
            w(3, f"Signal:\t{term['signal']}")
        w(3, f"Started:\t{rfc1123(term.get('startedAt'))}")
        w(3, f"Finished:\t{rfc1123(term.get('finishedAt'))}")
    else:
        w(2, f"{title}:\tWaiting")
        if (state.get("waiting") or {}).get("reason"):
            w(3, f"Reason:\t{state['waiting']['reason']}")


def _env(w: Writer, container: dict[str, Any], pod: Object | None) -> None:
    env = container.get("env") or []
    w(2, "Environment:" + ("" if env else "\t<none>"))
    for e in env:
        name, source = e.get("name", ""), e.get("valueFrom") or {}
        if not source:
            for i, line in enumerate((e.get("value") or "").split("\n")):
                w(3, f"{name}:\t{line}" if i == 0 else f"\t{line}")
        elif "fieldRef" in source:
            ref = source["fieldRef"] or {}
            value: Any = pod or ""
            for part in (ref.get("fieldPath") or "").split("."):
                value = value.get(part, "") if isinstance(value, dict) else ""
            w(3, f"{name}:\t{go_string(value)} "
                 f"({ref.get('apiVersion', 'v1')}:{ref.get('fieldPath')})")
        elif "resourceFieldRef" in source:
            w(3, f"{name}:\t ({(source['resourceFieldRef'] or {}).get('resource', '')})")
        else:
            kind, ref = (("secret", source.get("secretKeyRef") or {}) if "secretKeyRef" in source
                         else ("config map", source.get("configMapKeyRef") or {}))
            prep = "in" if kind == "secret" else "of"
            w(3, f"{name}:\t<set to the key '{ref.get('key', '')}' {prep} {kind} "
                 f"'{ref.get('name', '')}'>\tOptional: {go_string(bool(ref.get('optional')))}")


def _containers(w: Writer, label: str, containers: list[dict[str, Any]],
                statuses: list[dict[str, Any]] | None, space: str, pod: Object | None) -> None:
    """describeContainers: image, ports, state, resources, probes, environment, mounts."""
    by_name = {s.get("name"): s for s in statuses or []}
    w(0, f"{space}{label}:" + ("" if containers else " <none>"))
    for c in containers:
        status = by_name.get(c.get("name"))
        w(1, f"{' ' if space else ''}{c.get('name', '')}:")
        if status is not None:
            w(2, f"Container ID:\t{status.get('containerID', '')}")
        w(2, f"Image:\t{c.get('image', '')}")
        if status is not None:
            w(2, f"Image ID:\t{status.get('imageID', '')}")
        for title, field in (("Port", "containerPort"), ("Host Port", "hostPort")):
            text = _port_list(c.get("ports") or [], field)
            w(2, f"{title}s:\t{text}" if "," in text else f"{title}:\t{text or '<none>'}")
        for title, key in (("Command", "command"), ("Args", "args")):
            if c.get(key):
                w(2, f"{title}:")
                for item in c[key]:
                    w(3, item.replace("\n", "\n" + "  " * 3))
        if status is not None:
            _state(w, "State", status.get("state") or {})
            if ((status.get("lastState") or {}).get("terminated")) is not None:
                _state(w, "Last State", status["lastState"])
            w(2, f"Ready:\t{'True' if status.get('ready') else 'False'}")
            w(2, f"Restart Count:\t{status.get('restartCount', 0)}")
        for title, key in (("Limits", "limits"), ("Requests", "requests")):
            values = (c.get("resources") or {}).get(key) or {}
            if values:
                w(2, f"{title}:")
            for res in sorted(values):
                w(3, f"{res}:\t{values[res]}")
        for title, key in (("Liveness", "livenessProbe"), ("Readiness", "readinessProbe"),
                           ("Startup", "startupProbe")):
            if c.get(key):
                w(2, f"{title}:\t{_probe(c[key])}")
        _env(w, c, pod)
        mounts = sorted(c.get("volumeMounts") or [], key=lambda m: m.get("mountPath", ""))
        w(2, "Mounts:" + ("" if mounts else "\t<none>"))
        for m in mounts:
            flags = ["ro" if m.get("readOnly") else "rw"]
            flags += [f'path="{m["subPath"]}"'] if m.get("subPath") else []
            w(3, f"{m.get('mountPath', '')} from {m.get('name', '')} ({','.join(flags)})")


_VOLUMES: dict[str, tuple[str, tuple[tuple[str, str, Any], ...]]] = {
    "hostPath": ("HostPath (bare host directory volume)",
                 (("Path", "path", ""), ("HostPathType", "type", "<none>"))),
    "emptyDir": ("EmptyDir (a temporary directory that shares a pod's lifetime)",
                 (("Medium", "medium", ""), ("SizeLimit", "sizeLimit", "<unset>"))),
    "secret": ("Secret (a volume populated by a Secret)",
               (("SecretName", "secretName", ""), ("Optional", "optional", False))),
    "configMap": ("ConfigMap (a volume populated by a ConfigMap)",
                  (("Name", "name", ""), ("Optional", "optional", False))),
    "persistentVolumeClaim": ("PersistentVolumeClaim (a reference to a PersistentVolumeClaim "
                              "in the same namespace)",
                              (("ClaimName", "claimName", ""), ("ReadOnly", "readOnly", False))),
}


def _volumes(w: Writer, volumes: list[dict[str, Any]], space: str) -> None:
    if not volumes:
        w(0, f"{space}Volumes:\t<none>")
        return
    w(0, f"{space}Volumes:")
    for volume in volumes:
        w(1, f"{' ' if space else ''}{volume.get('name', '')}:")
        kind = next((k for k in _VOLUMES if k in volume), None)
        if kind is None:
            w(1, "<unknown>")
            continue
        title, fields = _VOLUMES[kind]
        w(2, f"Type:\t{title}")
        for label, key, default in fields:
            w(2, f"{label}:\t{go_string((volume[kind] or {}).get(key, default))}")


def _tolerations(w: Writer, title: str, tolerations: list[dict[str, Any]]) -> None:
    if not tolerations:
        w(0, f"{title}:\t<none>")
    for i, t in enumerate(sorted(tolerations, key=lambda t: t.get("key", ""))):
        text = t.get("key", "") + (f"={t['value']}" if t.get("value") else "")
        text += f":{t['effect']}" if t.get("effect") else ""
        if t.get("operator") == "Exists" and not t.get("value"):
            text += " op=Exists" if t.get("key") or t.get("effect") else "op=Exists"
        if t.get("tolerationSeconds") is not None:
            text += f" for {t['tolerationSeconds']}s"
        w(0, (f"{title}:\t" if i == 0 else "\t") + text)


def _qos(pod: Object) -> str:
    """status.qosClass, else GetPodQOS's rule: no resources, equal cpu/memory limits, or neither."""
    qos = (pod.get("status") or {}).get("qosClass")
    if qos:
        return str(qos)
    resources = [c.get("resources") or {} for c in (pod.get("spec") or {}).get("containers") or []]
    if not any(r.get("limits") or r.get("requests") for r in resources):
        return "BestEffort"

    def guaranteed(r: dict[str, Any]) -> bool:  # cpu and memory limited, requests equal limits
        limits, requests = r.get("limits") or {}, r.get("requests") or {}
        return all(k in limits and requests.get(k, limits[k]) == limits[k]
                   for k in ("cpu", "memory"))
    return "Guaranteed" if all(guaranteed(r) for r in resources) else "Burstable"


def describe_pod(w: Writer, pod: Object, ctx: Context) -> None:
    spec, status, meta = pod.get("spec") or {}, pod.get("status") or {}, metadata(pod)
    write_header(w, pod)
    if spec.get("priority") is not None:
        w(0, f"Priority:\t{spec['priority']}")
    if spec.get("serviceAccountName"):
        w(0, f"Service Account:\t{spec['serviceAccountName']}")
    node = spec.get("nodeName")
    w(0, f"Node:\t{node}/{status.get('hostIP', '')}" if node else "Node:\t<none>")
    if status.get("startTime"):
        w(0, f"Start Time:\t{rfc1123(status['startTime'])}")
    write_meta(w, pod)
    phase = status.get("phase") or ""
    if meta.get("deletionTimestamp") and phase not in ("Failed", "Succeeded"):
        w(0, f"Status:\tTerminating (lasts {since(meta['deletionTimestamp'], ctx.now)})")
        w(0, f"Termination Grace Period:\t{meta.get('deletionGracePeriodSeconds', 0)}s")
    else:
        w(0, f"Status:\t{phase}")
    for label, key in (("Reason", "reason"), ("Message", "message")):
        if status.get(key):
            w(0, f"{label}:\t{status[key]}")
    w(0, f"IP:\t{status.get('podIP', '')}")
    ips = status.get("podIPs") or []
    w(0, "IPs:" if ips else "IPs:\t<none>")
    for ip in ips:
        w(1, f"IP:\t{ip.get('ip', '')}")
    ref = controller_of(pod)
    if ref is not None:
        w(0, f"Controlled By:\t{ref.get('kind')}/{ref.get('name')}")
    if status.get("nominatedNodeName"):
        w(0, f"NominatedNodeName:\t{status['nominatedNodeName']}")
    if spec.get("initContainers"):
        _containers(w, "Init Containers", spec["initContainers"],
                    status.get("initContainerStatuses"), "", pod)
    _containers(w, "Containers", spec.get("containers") or [], status.get("containerStatuses"),
                "", pod)
    if status.get("conditions"):
        w(0, "Conditions:")
        w(1, "Type\tStatus")
        for c in status["conditions"]:
            w(1, f"{c.get('type', '')} \t{c.get('status', '')} ")
    _volumes(w, spec.get("volumes") or [], "")
    w(0, f"QoS Class:\t{_qos(pod)}")
    write_labels(w, "Node-Selectors", spec.get("nodeSelector"))
    _tolerations(w, "Tolerations", spec.get("tolerations") or [])
    write_events(w, ctx)


def describe_pod_template(w: Writer, template: dict[str, Any]) -> None:
    """DescribePodTemplate: the template's labels, containers and volumes, indented."""
    spec, meta = template.get("spec") or {}, template.get("metadata") or {}
    w(0, "Pod Template:")
    write_labels(w, "  Labels", meta.get("labels"))
    if meta.get("annotations"):
        write_annotations(w, "  Annotations", meta["annotations"])
    if spec.get("serviceAccountName"):
        w(1, f"Service Account:\t{spec['serviceAccountName']}")
    if spec.get("initContainers"):
        _containers(w, "Init Containers", spec["initContainers"], None, "  ", None)
    _containers(w, "Containers", spec.get("containers") or [], None, "  ", None)
    _volumes(w, spec.get("volumes") or [], "  ")
    write_labels(w, "  Node-Selectors", spec.get("nodeSelector"))
    _tolerations(w, "  Tolerations", spec.get("tolerations") or [])
