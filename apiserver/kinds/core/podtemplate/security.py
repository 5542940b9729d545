"""The security fields of a pod spec Schooner's agent cannot carry to Docker: refused.

Every security field the API accepts is either applied by the agent
(`agent/podsync/security.py`: users and groups, read-only root, capabilities,
no-new-privileges, seccomp RuntimeDefault/Unconfined, host network/PID/IPC, hostPort)
or refused here with a 422 naming it, so nothing is stored and silently
ignored. `privileged: true` is refused even in a `privileged` namespace: the
Docker engines Schooner's nodes run on (these machines' and the lab's nodes)
refuse privileged containers. docs/security.md lists both sides.
"""

from __future__ import annotations

from typing import Any

from apiserver.validation.fields import Errs, as_dict, child, dict_items, forbidden, invalid

_PRIVILEGED = ("privileged containers are not supported: the Docker engines of Schooner's "
               "nodes (these machines' and the lab nodes') refuse them")
_NOT_CARRIED = "is not supported by Schooner's agent"
_GROUP_WITHOUT_USER = ("runAsGroup needs runAsUser (on the pod or the container): Docker's "
                       "--user cannot give the image's own user another primary group")


def _profile(context: dict[str, Any], key: str, allowed: tuple[str, ...], path: str) -> Errs:
    kind = as_dict(context.get(key)).get("type")
    if kind is None or kind in allowed:
        return []
    return [forbidden(child(child(path, key), "type"),
                      f'"{kind}" {_NOT_CARRIED} (supported: {", ".join(allowed)})')]


def _common(context: dict[str, Any], path: str) -> Errs:
    """Fields the pod and its containers share."""
    errs = [forbidden(child(path, key), f"{why} {_NOT_CARRIED}")
            for key, why in (("seLinuxOptions", "SELinux labelling"),
                             ("windowsOptions", "Windows containers"))
            if context.get(key) is not None]
    errs += _profile(context, "seccompProfile", ("RuntimeDefault", "Unconfined"), path)
    errs += _profile(context, "appArmorProfile", ("RuntimeDefault",), path)
    return errs


def _pod_context(context: dict[str, Any], path: str) -> Errs:
    errs = _common(context, path)
    errs += [forbidden(child(path, key), f"{why} {_NOT_CARRIED}")
             for key, why in (("fsGroup", "changing volumes' group ownership"),
                              ("fsGroupChangePolicy", "changing volumes' group ownership"),
                              ("sysctls", "setting sysctls"),
                              ("seLinuxChangePolicy", "SELinux labelling"))
             if context.get(key) is not None]
    if context.get("supplementalGroupsPolicy") not in (None, "Merge"):
        errs.append(forbidden(child(path, "supplementalGroupsPolicy"),
                              f"Strict {_NOT_CARRIED} (supported: Merge)"))
    return errs


def _container_context(context: dict[str, Any], path: str) -> Errs:
    errs = _common(context, path)
    if context.get("privileged") is True:
        errs.append(forbidden(child(path, "privileged"), _PRIVILEGED))
    if context.get("procMount") not in (None, "Default"):
        errs.append(forbidden(child(path, "procMount"),
                              f"Unmasked {_NOT_CARRIED} (supported: Default)"))
    return errs


def validate_security(spec: dict[str, Any], path: str) -> Errs:
    """The pod's and each container's security settings the agent could not apply."""
    pod_sc = as_dict(spec.get("securityContext"))
    errs = _pod_context(pod_sc, child(path, "securityContext"))
    host_network = spec.get("hostNetwork") is True
    for key in ("initContainers", "containers"):
        for i, container in dict_items(spec.get(key)):
            cpath = f"{child(path, key)}[{i}]"
            sc = as_dict(container.get("securityContext"))
            errs += _container_context(sc, child(cpath, "securityContext"))
            if sc.get("runAsGroup") is not None and sc.get("runAsUser") is None \
                    and pod_sc.get("runAsUser") is None:
                errs.append(forbidden(child(child(cpath, "securityContext"), "runAsGroup"),
                                      _GROUP_WITHOUT_USER))
            for j, port in dict_items(container.get("ports")):
                ppath = f"{child(cpath, 'ports')}[{j}]"
                if port.get("hostIP") and not port.get("hostPort"):
                    errs.append(forbidden(child(ppath, "hostIP"), "hostIP needs a hostPort"))
                host_port = port.get("hostPort")
                if host_network and host_port and host_port != port.get("containerPort"):
                    errs.append(invalid(child(ppath, "hostPort"), host_port,
                                        "must match `containerPort` when `hostNetwork` is true"))
    if pod_sc.get("runAsGroup") is not None and pod_sc.get("runAsUser") is None and any(
            as_dict(c.get("securityContext")).get("runAsUser") is None
            for key in ("initContainers", "containers") for _, c in dict_items(spec.get(key))):
        errs.append(forbidden(child(child(path, "securityContext"), "runAsGroup"),
                              _GROUP_WITHOUT_USER))
    return errs
