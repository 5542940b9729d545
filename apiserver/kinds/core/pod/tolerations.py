"""DefaultTolerationSeconds: every new pod tolerates a not-ready or unreachable node 300 s.

Kubernetes' admission plugin of that name adds
`node.kubernetes.io/not-ready:NoExecute` and `node.kubernetes.io/unreachable:NoExecute`
tolerations (operator Exists) with `tolerationSeconds` from the apiserver's
`--default-not-ready-toleration-seconds` / `--default-unreachable-toleration-seconds`
(300 s each) to a pod that has no toleration for that key and effect already (an
empty key or an empty effect counts as one). The node lifecycle controller then
evicts a pod from a tainted node when its seconds run out, and a pod with no
matching toleration at once, so this admission is what gives pods their five
minutes. Schooner applies it on create only: a pod's tolerations are part of its
spec, which an update may not grow behind its author's back.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from apimachinery.meta import Object
from apimachinery.resources import ResourceInfo
from apiserver.config import ServerConfig
from apiserver.registry import Registry

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
NO_EXECUTE = "NoExecute"


@dataclass(frozen=True)
class TolerationDefaults:
    not_ready: int = 300
    unreachable: int = 300


_DEFAULTS: weakref.WeakKeyDictionary[Registry, TolerationDefaults] = \
    weakref.WeakKeyDictionary()


async def remember_toleration_defaults(registry: Registry, config: ServerConfig) -> None:
    """At start: this apiserver's `--default-*-toleration-seconds`."""
    _DEFAULTS[registry] = TolerationDefaults(config.default_not_ready_toleration_seconds,
                                             config.default_unreachable_toleration_seconds)


def tolerates(tolerations: list[Object], key: str) -> bool:
    """Whether some toleration already covers `key:NoExecute` (Kubernetes' test)."""
    return any(t.get("key", "") in ("", key) and t.get("effect", "") in ("", NO_EXECUTE)
               for t in tolerations if isinstance(t, dict))


def add_default_tolerations(spec: Object, defaults: TolerationDefaults) -> None:
    tolerations = spec.get("tolerations")
    if not isinstance(tolerations, list):
        tolerations = []
    added = [{"key": key, "operator": "Exists", "effect": NO_EXECUTE, "tolerationSeconds": seconds}
             for key, seconds in ((NOT_READY, defaults.not_ready),
                                  (UNREACHABLE, defaults.unreachable))
             if not tolerates(tolerations, key)]
    if added:
        spec["tolerations"] = [*tolerations, *added]


async def admit_default_tolerations(registry: Registry, resource: ResourceInfo,
                                    namespace: str | None, obj: Object,
                                    old: Object | None) -> None:
    """Kubernetes' DefaultTolerationSeconds admission, on a new pod."""
    if resource.group != "" or resource.plural != "pods" or old is not None:
        return
    spec = obj.get("spec")
    if isinstance(spec, dict):
        add_default_tolerations(spec, _DEFAULTS.get(registry) or TolerationDefaults())
