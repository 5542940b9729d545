"""ServiceAccount admission: every new pod runs as a ServiceAccount and, unless it opts
out, gets that account's token, the cluster CA and its namespace as files.

Kubernetes' admission plugin of that name (plugin/pkg/admission/serviceaccount):
* `spec.serviceAccountName` defaults to `default` (the deprecated `serviceAccount`
  alias, when it alone is given, names it; both end up equal);
* the ServiceAccount must exist: the `default` one is looked up ten times ~150 ms
  apart, as the controller that makes it may not have caught up with a new
  namespace, any other once; a missing one is a 403 `pods "x" is forbidden: error
  looking up service account NS/NAME: serviceaccount "NAME" not found`;
* unless `automountServiceAccountToken` says false (the pod's, or else the
  ServiceAccount's), a projected volume `kube-api-access-<5 random characters>`
  (a bound token of 3607 s, `kube-root-ca.crt`'s `ca.crt`, the namespace) is added,
  mounted read-only at /var/run/secrets/kubernetes.io/serviceaccount in every
  container and init container that mounts nothing at that path already.
The agent writes the volume's files and rewrites the token before it expires
(agent/podsync/projected.py). Create only: a pod's spec is immutable after.
`--disable-admission-plugins=ServiceAccount` turns it off (test apiservers without a
controller-manager, as Kubernetes' integration framework runs them).
"""

from __future__ import annotations

import asyncio
import random
import weakref
from typing import Any

from apimachinery import errors
from apimachinery.meta import Object
from apimachinery.resources import ResourceInfo
from apiserver.config import ServerConfig
from apiserver.registry import Registry

PLUGIN = "ServiceAccount"
DEFAULT_SERVICE_ACCOUNT = "default"
VOLUME_PREFIX = "kube-api-access-"
TOKEN_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
TOKEN_EXPIRATION_SECONDS = 3607  # Kubernetes' warn-able default: an hour and 7 s
ROOT_CA_CONFIGMAP = "kube-root-ca.crt"
# names.SimpleNameGenerator's alphabet: no vowels, no look-alikes
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_DEFAULT_ATTEMPTS = 10
_RETRY_SECONDS = (0.1, 0.2)
_SERVICE_ACCOUNTS = ResourceInfo("", "v1", "ServiceAccount", "serviceaccounts", True)
_DISABLED: weakref.WeakKeyDictionary[Registry, bool] = weakref.WeakKeyDictionary()


async def remember_service_account_admission(registry: Registry,
                                             config: ServerConfig) -> None:
    """At start: whether `--disable-admission-plugins` turned this plugin off."""
    _DISABLED[registry] = PLUGIN in config.disable_admission_plugins


def default_service_account_name(spec: dict[str, Any]) -> str:
    """The account the pod runs as, both fields set to it (v1's conversion rule)."""
    name = spec.get("serviceAccountName") or spec.get("serviceAccount") \
        or DEFAULT_SERVICE_ACCOUNT
    spec["serviceAccountName"] = spec["serviceAccount"] = str(name)
    return str(name)


def should_automount(pod_spec: dict[str, Any], account: Object) -> bool:
    """The pod's `automountServiceAccountToken` when it says, else the account's, else yes."""
    for value in (pod_spec.get("automountServiceAccountToken"),
                  account.get("automountServiceAccountToken")):
        if isinstance(value, bool):
            return value
    return True


def token_volume(name: str) -> Object:
    """The projected volume Kubernetes adds (its sources in Kubernetes' order)."""
    return {"name": name, "projected": {"defaultMode": 0o644, "sources": [
        {"serviceAccountToken": {"expirationSeconds": TOKEN_EXPIRATION_SECONDS,
                                 "path": "token"}},
        {"configMap": {"name": ROOT_CA_CONFIGMAP,
                       "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
            "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
    ]}}


def mount_token(spec: dict[str, Any], rng: random.Random | None = None) -> str | None:
    """Add the token volume and its mounts to `spec`; the volume's name, or None when no
    container needed it. A volume named `kube-api-access-*` already there is reused."""
    found = spec.get("volumes")
    volumes: list[Any] = found if isinstance(found, list) else []
    existing = next((v["name"] for v in volumes if isinstance(v, dict)
                     and str(v.get("name") or "").startswith(VOLUME_PREFIX)), None)
    chooser = rng or random.SystemRandom()
    name = existing or VOLUME_PREFIX + "".join(chooser.choice(_NAME_ALPHABET)
                                               for _ in range(5))
    needed = False
    for key in ("initContainers", "containers"):
        for container in spec.get(key) or []:
            if not isinstance(container, dict):
                continue
            mounts = container.get("volumeMounts")
            mounts = mounts if isinstance(mounts, list) else []
            if any(isinstance(m, dict) and m.get("mountPath") == TOKEN_MOUNT_PATH
                   for m in mounts):
                continue
            container["volumeMounts"] = [*mounts, {"name": name, "readOnly": True,
                                                   "mountPath": TOKEN_MOUNT_PATH}]
            needed = True
    if existing is None and needed:
        spec["volumes"] = [*volumes, token_volume(name)]
    return name if needed else None


async def _find_account(registry: Registry, namespace: str, name: str) -> Object | None:
    attempts = _DEFAULT_ATTEMPTS if name == DEFAULT_SERVICE_ACCOUNT else 1
    pause = random.uniform(*_RETRY_SECONDS)
    for attempt in range(attempts):
        if attempt:
            await asyncio.sleep(pause)
        try:
            return await registry.get(_SERVICE_ACCOUNTS, namespace, name)
        except errors.NotFound:
            continue
    return None


async def admit_service_account(registry: Registry, resource: ResourceInfo,
                                namespace: str | None, obj: Object,
                                old: Object | None) -> None:
    """Kubernetes' ServiceAccount admission, on a new pod."""
    if resource.group != "" or resource.plural != "pods" or old is not None \
            or _DISABLED.get(registry, False):
        return
    spec = obj.get("spec")
    if not isinstance(spec, dict) or not namespace:
        return
    account_name = default_service_account_name(spec)
    account = await _find_account(registry, namespace, account_name)
    if account is None:
        pod = str((obj.get("metadata") or {}).get("name") or "")
        raise errors.Forbidden(
            f'pods "{pod}" is forbidden: error looking up service account '
            f'{namespace}/{account_name}: serviceaccount "{account_name}" not found',
            details={"name": pod, "kind": "pods"})
    if should_automount(spec, account):
        mount_token(spec)
