"""csrapproving: approve the requests a node makes for itself, as kube-controller-manager.

Kubernetes' approver (pkg/controller/certificates/approver/sarapprove.go)
approves `kubernetes.io/kube-apiserver-client-kubelet` requests that are kubelet
client requests (policy.py) when a SubjectAccessReview says the requester may
`create` `certificatesigningrequests/selfnodeclient` (a node renewing its own:
the requester is the node the certificate names) or
`certificatesigningrequests/nodeclient` (a host joining with a bootstrap token).
RBAC decides through the bindings kubeadm makes (bootstrappolicy.py).

Schooner goes one step further than Kubernetes, which approves no
`kubernetes.io/kubelet-serving` request (kubeadm users approve them by hand or run
a third-party approver): it approves one when the requester is the node
`system:node:NAME` itself, the certificate names that node, and every
subjectAltName is the Node's name or one of its registered addresses.
"""

from __future__ import annotations

from typing import Any

from apimachinery import csr, errors, meta
from apimachinery.meta import Object, deep_copy, now_rfc3339

from ..base import Controller, ControllerClient, SharedInformerFactory
from . import policy

CSRS = "certificatesigningrequests"
CLIENT_MESSAGE = "Auto approving kubelet client certificate after SubjectAccessReview."
SERVING_MESSAGE = ("Auto approving kubelet serving certificate: the node asked for its own "
                   "registered names.")


def client_sar_subresources(spec: Object, subject: csr.Subject) -> list[str]:
    """The SubjectAccessReviews that may approve a kubelet client request, in Kubernetes'
    recognizer order; none when it is not one."""
    if policy.kubelet_client_problem(subject, spec.get("usages") or []) is not None:
        return []
    own = spec.get("username") == subject.common_name
    return ["selfnodeclient", "nodeclient"] if own else ["nodeclient"]


def decided(obj: Object) -> bool:
    return csr.condition(obj, "Approved") or csr.condition(obj, "Denied")


class CSRApprovingController(Controller):
    """Keyed by CSR name; Node changes requeue the node's pending serving requests."""

    name = "csrapproving"

    def __init__(self, client: ControllerClient, factory: SharedInformerFactory,
                 **kwargs: Any) -> None:
        super().__init__(client, factory, **kwargs)
        self.csrs = factory.informer(CSRS)
        self.nodes = factory.informer("nodes")
        self.csrs.add_event_handler(self.enqueue, lambda _old, new: self.enqueue(new))
        self.nodes.add_event_handler(self._node_changed,
                                     lambda _old, new: self._node_changed(new))

    def _node_changed(self, node: Object) -> None:
        user = csr.NODE_USER_PREFIX + meta.name_of(node)
        for request in self.csrs.store.list():
            spec = request.get("spec") or {}
            if spec.get("signerName") == csr.KUBELET_SERVING and \
                    spec.get("username") == user and not decided(request):
                self.enqueue(request)

    async def reconcile(self, key: str) -> None:
        obj = self.csrs.store.get(key)
        if obj is None or decided(obj):
            return
        spec = obj.get("spec") or {}
        try:
            subject = csr.subject_of(csr.decode_request(str(spec.get("request") or "")))
        except csr.BadRequest:
            return
        signer = spec.get("signerName")
        if signer == csr.KUBE_APISERVER_CLIENT_KUBELET:
            for subresource in client_sar_subresources(spec, subject):
                if await self._allowed(spec, subresource):
                    await self._approve(key, obj, CLIENT_MESSAGE, via=subresource)
                    return
        elif signer == csr.KUBELET_SERVING:
            node = self.nodes.store.get(subject.common_name.removeprefix(csr.NODE_USER_PREFIX))
            problem = policy.kubelet_serving_problem(subject, spec.get("usages") or []) or \
                policy.serving_for_own_node_problem(spec, subject, node)
            if problem is None:
                await self._approve(key, obj, SERVING_MESSAGE, via="own-node")
            else:
                self.decision(key, "leave-pending", why=repr(problem))

    async def _allowed(self, spec: Object, subresource: str) -> bool:
        review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                  "spec": {"user": spec.get("username") or "", "uid": spec.get("uid") or "",
                           "groups": list(spec.get("groups") or []),
                           "resourceAttributes": {"group": csr.GROUP, "resource": CSRS,
                                                  "verb": "create",
                                                  "subresource": subresource}}}
        answer = await self.client.create("subjectaccessreviews", review)
        return bool((answer.get("status") or {}).get("allowed"))

    async def _approve(self, key: str, obj: Object, message: str, via: str) -> None:
        approved = deep_copy(obj)
        status = approved.setdefault("status", {})
        status.setdefault("conditions", []).append({
            "type": "Approved", "status": "True", "reason": "AutoApproved",
            "message": message, "lastUpdateTime": now_rfc3339()})
        try:
            await self.client.update(CSRS, approved, subresource="approval")
        except errors.NotFound:
            return
        self.decision(key, "approve", via=via)
