"""The pod spec that Pods and the templates of workloads share: its defaults and validation.

Not a kind: the core group's shared piece, as Kubernetes' `ValidatePodSpec` and
`SetDefaults_PodSpec` serve Pods and the `spec.template` of Deployments,
ReplicaSets and StatefulSets alike. Kinds import what is exported here and
nothing else of the pod's.
"""

from apiserver.kinds.core.podtemplate.defaults import (
    default_pod_spec,
    default_template,
    image_pull_policy,
)
from apiserver.kinds.core.podtemplate.validation import (
    POD_UPDATE_MESSAGE,
    changed_fields,
    comparable,
    validate_pod_spec,
    validate_pod_update,
)

__all__ = ["POD_UPDATE_MESSAGE", "changed_fields", "comparable",
           "default_pod_spec", "default_template", "image_pull_policy", "validate_pod_spec",
           "validate_pod_update"]
