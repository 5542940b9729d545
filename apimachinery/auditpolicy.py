"""The audit Policy `schooner up` and the lab give the apiserver (`--audit-policy-file`).

Every write and every interactive session into a pod (exec, attach, port-forward)
is logged at Metadata (who, what verb on which object, the code and when), reads
are not: a cluster's controllers read all day and would drown the
writes. Secrets, ConfigMaps and token requests come first at Metadata whatever
rule is added after them, so a Secret's data never reaches the log even if
someone raises the level of writes to Request — as Kubernetes recommends.
RequestReceived is left out (ResponseComplete says everything it says, and more).
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  # Never a Secret's (or token's) content: Metadata for them, first, whatever follows.
  - level: Metadata
    resources:
      - group: ""
        resources: ["secrets", "configmaps", "serviceaccounts/token"]
      - group: "authentication.k8s.io"
        resources: ["tokenreviews"]
    verbs: ["create", "update", "patch", "delete", "deletecollection"]
  # Every other write.
  - level: Metadata
    verbs: ["create", "update", "patch", "delete", "deletecollection"]
  # Interactive sessions into pods, whatever their verb (a WebSocket's is get): who
  # opened one, into what, when, and when it ended.
  - level: Metadata
    resources:
      - group: ""
        resources: ["pods/exec", "pods/attach", "pods/portforward"]
  # Reads (get, list, watch) and everything else: not logged.
  - level: None
"""


def ensure_default_policy(path: Path) -> bool:
    """Write the default policy once (a user's edits are kept); True when new."""
    if path.exists():
        return False
    path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "w") as f:
        f.write(DEFAULT_POLICY)
    return True
