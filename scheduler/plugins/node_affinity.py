"""NodeAffinity: `spec.nodeSelector` and node affinity, required and preferred.

Mirrors `plugins/nodeaffinity` and component-helpers' `nodeaffinity`: the pod
fits a node when every nodeSelector label matches AND, if
`requiredDuringSchedulingIgnoredDuringExecution` is set, at least one of its
nodeSelectorTerms matches (terms are ORed; inside a term, every matchExpression
and matchField is ANDed; an empty or malformed term matches nothing).
`preferredDuringSchedulingIgnoredDuringExecution` only scores: the sum of the
weights of the matching preference terms, normalized to 0..100.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from apimachinery import meta
from apimachinery.typeddicts import Node, NodeSelectorRequirement, NodeSelectorTerm, Pod
from apimachinery.typeddicts import NodeAffinity as NodeAffinitySpec  # the plugin is NodeAffinity
from scheduler.framework import SKIP, SUCCESS, NodeInfo, Status, default_normalize_score

REASON = "node(s) didn't match Pod's node affinity/selector"


def requirement_matches(req: NodeSelectorRequirement, values_by_key: Mapping[str, str]) -> bool:
    """One NodeSelectorRequirement against label (or field) values.

    In/NotIn/Exists/DoesNotExist as label selectors (absent keys satisfy NotIn);
    Gt/Lt compare integers and need exactly one value, and a label that is
    missing or not an integer does not match. Unknown operators never match.
    """
    key, op = req.get("key") or "", req.get("operator")
    values = [str(v) for v in req.get("values") or []]
    present = key in values_by_key
    value = values_by_key.get(key, "")
    if op == "In":
        return present and value in values
    if op == "NotIn":
        return not present or value not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt") and len(values) == 1 and present:
        try:
            have, bound = int(value), int(values[0])
        except ValueError:
            return False
        return have > bound if op == "Gt" else have < bound
    return False


def term_matches(term: NodeSelectorTerm | None, node: Node) -> bool:
    """A NodeSelectorTerm: all matchExpressions on labels and matchFields hold.

    The only field Kubernetes supports is `metadata.name`; any other makes the
    term match nothing, as a parse error does there.
    """
    expressions = list((term or {}).get("matchExpressions") or [])
    fields = list((term or {}).get("matchFields") or [])
    if not expressions and not fields:
        return False
    if any(f.get("key") != "metadata.name" for f in fields):
        return False
    labels = meta.labels_of(node)
    node_fields = {"metadata.name": meta.name_of(node)}
    return (all(requirement_matches(e, labels) for e in expressions)
            and all(requirement_matches(f, node_fields) for f in fields))


def _node_affinity(pod: Pod) -> NodeAffinitySpec:
    return (meta.pod_spec(pod).get("affinity") or {}).get("nodeAffinity") or {}


def _required_terms(pod: Pod) -> list[NodeSelectorTerm] | None:
    """The required terms, or None when the pod sets no required node affinity at all."""
    required = _node_affinity(pod).get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is None:
        return None
    return list(required.get("nodeSelectorTerms") or [])


def pod_matches_node(pod: Pod, node: Node) -> bool:
    """RequiredNodeAffinity.Match: nodeSelector labels AND one of the required terms."""
    labels = meta.labels_of(node)
    selector = meta.pod_spec(pod).get("nodeSelector") or {}
    if any(labels.get(k) != v for k, v in selector.items()):
        return False
    terms = _required_terms(pod)
    return terms is None or any(term_matches(t, node) for t in terms)


class NodeAffinity:
    name: ClassVar[str] = "NodeAffinity"

    def pre_filter(self, pod: Pod) -> Status:
        """Nothing to check without a nodeSelector or required affinity (Kubernetes skips)."""
        if meta.pod_spec(pod).get("nodeSelector") or _required_terms(pod) is not None:
            return SUCCESS
        return SKIP

    def filter(self, pod: Pod, node_info: NodeInfo) -> Status:
        return SUCCESS if pod_matches_node(pod, node_info.node) else Status.unresolvable(REASON)

    def score(self, pod: Pod, node_info: NodeInfo) -> int:
        preferred = _node_affinity(pod).get("preferredDuringSchedulingIgnoredDuringExecution")
        return sum(int(p.get("weight") or 0) for p in preferred or []
                   if term_matches(p.get("preference"), node_info.node))

    def normalize_score(self, pod: Pod, scores: Mapping[str, int]) -> dict[str, int]:
        return default_normalize_score(scores)
