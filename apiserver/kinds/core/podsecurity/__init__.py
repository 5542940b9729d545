"""Pod Security Admission: Kubernetes' privileged, baseline and restricted levels.

`levels` reads a namespace's `pod-security.kubernetes.io/*` labels into a policy
(Schooner's defaults: `baseline` everywhere, `privileged` for kube-system);
`checks` holds the level checks with Kubernetes' reasons and details; `admission`
refuses pods that violate the namespace's `enforce` level (403, Kubernetes'
wording) and warns for `warn` violations, on pods and on workload templates.
"""
