"""Defaults of a pod spec, for Pods and for the pod templates of workloads.

SetDefaults_PodSpec, SetDefaults_Container and the probe, handler and volume
defaults beneath them (`k8s.io/kubernetes/pkg/apis/core/v1/defaults.go`).
"""

from __future__ import annotations

from apiserver.defaulting import Obj, dict_at, dicts_at, set_default

DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log"


DEFAULT_VOLUME_MODE = 0o644  # 420, the `defaultMode` of configMap and secret volumes


def image_pull_policy(image: str) -> str:
    """`Always` for `:latest` or an untagged image, else `IfNotPresent` (SetDefaults_Container).

    An image pinned by digest alone counts as tagged, as in Kubernetes.
    """
    name, _, digest = image.partition("@")
    last_component = name.rsplit("/", 1)[-1]
    tag = last_component.rpartition(":")[2] if ":" in last_component else ""
    if tag == "latest" or (not tag and not digest):
        return "Always"
    return "IfNotPresent"


def _default_probe(probe: Obj) -> None:
    """Probe timings as Kubernetes fills them (`timeout=1s period=10s #success=1 #failure=3`)."""
    set_default(probe, "timeoutSeconds", 1)
    set_default(probe, "periodSeconds", 10)
    set_default(probe, "successThreshold", 1)
    set_default(probe, "failureThreshold", 3)
    _default_handler(probe)


def _default_handler(handler: Obj) -> None:
    """An httpGet action's `path: /` and `scheme: HTTP` (SetDefaults_HTTPGetAction)."""
    http_get = dict_at(handler, "httpGet")
    if http_get is not None:
        set_default(http_get, "path", "/")
        set_default(http_get, "scheme", "HTTP")


def _default_container(container: Obj) -> None:
    """SetDefaults_Container plus the port, env and probe defaults beneath it."""
    image = container.get("image")
    if isinstance(image, str) and image:
        set_default(container, "imagePullPolicy", image_pull_policy(image))
    set_default(container, "terminationMessagePath", DEFAULT_TERMINATION_MESSAGE_PATH)
    set_default(container, "terminationMessagePolicy", "File")
    for port in dicts_at(container, "ports"):
        set_default(port, "protocol", "TCP")
    for env in dicts_at(container, "env"):
        value_from = dict_at(env, "valueFrom")
        field_ref = dict_at(value_from, "fieldRef") if value_from is not None else None
        if field_ref is not None:
            set_default(field_ref, "apiVersion", "v1")
    for key in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = dict_at(container, key)
        if probe is not None:
            _default_probe(probe)
    lifecycle = dict_at(container, "lifecycle")
    if lifecycle is not None:
        for key in ("postStart", "preStop"):
            handler = dict_at(lifecycle, key)
            if handler is not None:
                _default_handler(handler)


def default_pod_spec(spec: Obj) -> None:
    """SetDefaults_PodSpec: the pod-level defaults, then each container and volume."""
    set_default(spec, "restartPolicy", "Always")
    set_default(spec, "terminationGracePeriodSeconds", 30)
    set_default(spec, "dnsPolicy", "ClusterFirst")
    set_default(spec, "schedulerName", "default-scheduler")
    for container in dicts_at(spec, "initContainers") + dicts_at(spec, "containers"):
        _default_container(container)
    for volume in dicts_at(spec, "volumes"):
        for source in ("configMap", "secret"):
            volume_source = dict_at(volume, source)
            if volume_source is not None:
                set_default(volume_source, "defaultMode", DEFAULT_VOLUME_MODE)
        _default_projected(volume)
    _default_service_account(spec)


def _default_service_account(spec: Obj) -> None:
    """`serviceAccount` is the deprecated alias of `serviceAccountName`: the one given
    fills the other, as v1's conversion does."""
    name = spec.get("serviceAccountName") or spec.get("serviceAccount")
    if isinstance(name, str) and name:
        spec["serviceAccountName"] = name
        spec["serviceAccount"] = name


def _default_projected(volume: Obj) -> None:
    """SetDefaults_ProjectedVolumeSource, _DownwardAPIVolumeSource and
    _ServiceAccountTokenProjection: mode 0644, a token of an hour, fieldRef's v1."""
    for key in ("projected", "downwardAPI"):
        source = dict_at(volume, key)
        if source is not None:
            set_default(source, "defaultMode", DEFAULT_VOLUME_MODE)
    projected = dict_at(volume, "projected")
    downward = dict_at(volume, "downwardAPI")
    sources = dicts_at(projected, "sources") if projected is not None else []
    item_lists = [downward] if downward is not None else []
    for source in sources:
        token = dict_at(source, "serviceAccountToken")
        if token is not None:
            set_default(token, "expirationSeconds", 3600)
        api = dict_at(source, "downwardAPI")
        if api is not None:
            item_lists.append(api)
    for holder in item_lists:
        for item in dicts_at(holder, "items"):
            field_ref = dict_at(item, "fieldRef")
            if field_ref is not None:
                set_default(field_ref, "apiVersion", "v1")


def default_template(spec: Obj) -> None:
    """Pod templates inside workloads get the same pod defaults as pods."""
    template = dict_at(spec, "template")
    pod_spec = dict_at(template, "spec") if template is not None else None
    if pod_spec is not None:
        default_pod_spec(pod_spec)
