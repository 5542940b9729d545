"""Typed scheduling constraints of a pod (core/v1 Toleration, Affinity, topology spread).

The shapes, wire names and protobuf numbers are Kubernetes'. Schooner's
scheduler applies tolerations and node affinity; pod (anti-)affinity and
topology spread constraints are typed (so a body carrying them decodes) but refused
by the apiserver with a 422 naming them, since no component would act on them,
and each description says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

from apimachinery.models.meta import K8sModel, LabelSelector
from apimachinery.models.schema import ProtobufHint, field

_NOT_APPLIED = "Refused by Schooner's apiserver: its scheduler does not apply it."


class Toleration(K8sModel):
    """Lets the pod onto (or stay on) nodes with a matching taint."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"tolerationSeconds": "pointer"}

    key: Annotated[str | None, field(
        "The taint key it tolerates; empty with operator Exists tolerates every taint.",
        protobuf=1)] = None
    operator: Annotated[str | None, field(
        "Equal (the default: the taint's value must equal `value`) or Exists (any value).",
        protobuf=2)] = None
    value: Annotated[str | None, field(
        "The taint value for Equal; must be empty for Exists.", protobuf=3)] = None
    effect: Annotated[str | None, field(
        "The taint effect it tolerates (NoSchedule, PreferNoSchedule, NoExecute); empty "
        "means all.", protobuf=4)] = None
    toleration_seconds: Annotated[int | None, field(
        "For NoExecute only: how long the pod may stay once the taint appears before "
        "the node lifecycle controller evicts it; unset means forever.",
        protobuf=5)] = None


class NodeSelectorRequirement(K8sModel):
    """One test of a node's labels (or, in matchFields, of its name)."""

    key: Annotated[str, field(
        "The label key, or `metadata.name` in matchFields.", protobuf=1)]
    operator: Annotated[str, field(
        "In, NotIn, Exists, DoesNotExist, Gt or Lt (matchFields: In or NotIn).",
        protobuf=2)]
    values: Annotated[list[str] | None, field(
        "The values to compare with; one integer for Gt and Lt, none for Exists and "
        "DoesNotExist.", protobuf=3, list_type="atomic")] = None


class NodeSelectorTerm(K8sModel):
    """Requirements that must all hold for a node to match the term."""

    struct_type: ClassVar[Literal["atomic", "granular"]] = "atomic"

    match_expressions: Annotated[list[NodeSelectorRequirement] | None, field(
        "Requirements on the node's labels.", protobuf=1, list_type="atomic")] = None
    match_fields: Annotated[list[NodeSelectorRequirement] | None, field(
        "Requirements on the node's fields; only `metadata.name` is supported.",
        protobuf=2, list_type="atomic")] = None


class NodeSelector(K8sModel):
    """Terms of which a node must match at least one."""

    struct_type: ClassVar[Literal["atomic", "granular"]] = "atomic"

    node_selector_terms: Annotated[list[NodeSelectorTerm], field(
        "The terms, ORed; at least one is required.", protobuf=1, list_type="atomic")]


class PreferredSchedulingTerm(K8sModel):
    """A term that makes matching nodes score higher."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"preference": "value"}

    weight: Annotated[int, field(
        "Added to a matching node's affinity score (1-100).", protobuf=1)]
    preference: Annotated[NodeSelectorTerm, field("The term to match.", protobuf=2)]


class NodeAffinity(K8sModel):
    """Which nodes the pod must or would rather run on, by their labels."""

    required_during_scheduling_ignored_during_execution: Annotated[
        NodeSelector | None, field(
            "The scheduler only places the pod on nodes matching these terms; a running "
            "pod stays even if its node stops matching.", protobuf=1)] = None
    preferred_during_scheduling_ignored_during_execution: Annotated[
        list[PreferredSchedulingTerm] | None, field(
            "Terms that raise a node's score by their weights when it matches.",
            protobuf=2, list_type="atomic")] = None


class PodAffinityTerm(K8sModel):
    """Pods (by labels, in some namespaces) whose topology domain the pod is placed by."""

    label_selector: Annotated[LabelSelector | None, field(
        f"The pods the term is about. {_NOT_APPLIED}", protobuf=1)] = None
    namespaces: Annotated[list[str] | None, field(
        f"Namespaces to look for those pods in; empty means the pod's own. {_NOT_APPLIED}",
        protobuf=2, list_type="atomic")] = None
    topology_key: Annotated[str | None, field(
        "The node label whose value defines a domain, e.g. kubernetes.io/hostname. "
        f"{_NOT_APPLIED}", protobuf=3)] = None
    namespace_selector: Annotated[LabelSelector | None, field(
        f"Namespaces, by their labels, to look for those pods in. {_NOT_APPLIED}",
        protobuf=4)] = None
    match_label_keys: Annotated[list[str] | None, field(
        "Label keys whose values, taken from the incoming pod, are added to labelSelector "
        f"as In requirements. {_NOT_APPLIED}", protobuf=5, list_type="atomic")] = None
    mismatch_label_keys: Annotated[list[str] | None, field(
        "Label keys whose values, taken from the incoming pod, are added to labelSelector "
        f"as NotIn requirements. {_NOT_APPLIED}", protobuf=6, list_type="atomic")] = None


class WeightedPodAffinityTerm(K8sModel):
    """A pod affinity term that raises (or, for anti-affinity, lowers) a node's score."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"podAffinityTerm": "value"}

    weight: Annotated[int | None, field(
        f"Added to a matching node's score (1-100). {_NOT_APPLIED}", protobuf=1)] = None
    pod_affinity_term: Annotated[PodAffinityTerm | None, field(
        f"The term to match. {_NOT_APPLIED}", protobuf=2)] = None


class PodAffinity(K8sModel):
    """Rules to place the pod in the same domain as other pods."""

    required_during_scheduling_ignored_during_execution: Annotated[
        list[PodAffinityTerm] | None, field(
            f"Terms every node must meet, each for its own domain. {_NOT_APPLIED}",
            protobuf=1, list_type="atomic")] = None
    preferred_during_scheduling_ignored_during_execution: Annotated[
        list[WeightedPodAffinityTerm] | None, field(
            f"Terms that raise a node's score by their weights. {_NOT_APPLIED}",
            protobuf=2, list_type="atomic")] = None


class PodAntiAffinity(K8sModel):
    """Rules to keep the pod out of the domains of other pods."""

    required_during_scheduling_ignored_during_execution: Annotated[
        list[PodAffinityTerm] | None, field(
            f"Terms no node may meet, each for its own domain. {_NOT_APPLIED}",
            protobuf=1, list_type="atomic")] = None
    preferred_during_scheduling_ignored_during_execution: Annotated[
        list[WeightedPodAffinityTerm] | None, field(
            f"Terms that lower a node's score by their weights. {_NOT_APPLIED}",
            protobuf=2, list_type="atomic")] = None


class Affinity(K8sModel):
    """Node affinity, which the scheduler applies, and pod (anti-)affinity, stored only."""

    node_affinity: Annotated[NodeAffinity | None, field(
        "Rules on the labels of the node, applied by the scheduler.", protobuf=1)] = None
    pod_affinity: Annotated[PodAffinity | None, field(
        "Rules to co-locate with other pods. Refused by Schooner's apiserver: its "
        "scheduler does not apply them.", protobuf=2)] = None
    pod_anti_affinity: Annotated[PodAntiAffinity | None, field(
        "Rules to keep away from other pods. Refused by Schooner's apiserver: its "
        "scheduler does not apply them (it spreads a controller's pods by itself).",
        protobuf=3)] = None


class TopologySpreadConstraint(K8sModel):
    """How evenly matching pods must spread over the domains of a node label."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "minDomains": "pointer", "nodeAffinityPolicy": "pointer",
        "nodeTaintsPolicy": "pointer"}

    max_skew: Annotated[int | None, field(
        "The largest allowed difference in matching pods between two domains. "
        f"{_NOT_APPLIED}", protobuf=1)] = None
    topology_key: Annotated[str | None, field(
        f"The node label whose value defines a domain. {_NOT_APPLIED}", protobuf=2)] = None
    when_unsatisfiable: Annotated[str | None, field(
        "DoNotSchedule or ScheduleAnyway: what to do when no node keeps the skew. "
        f"{_NOT_APPLIED}", protobuf=3)] = None
    label_selector: Annotated[LabelSelector | None, field(
        f"The pods that are counted. {_NOT_APPLIED}", protobuf=4)] = None
    min_domains: Annotated[int | None, field(
        f"The fewest eligible domains, for DoNotSchedule. {_NOT_APPLIED}",
        protobuf=5)] = None
    node_affinity_policy: Annotated[str | None, field(
        "Honor or Ignore: whether the pod's node affinity limits the domains counted. "
        f"{_NOT_APPLIED}", protobuf=6)] = None
    node_taints_policy: Annotated[str | None, field(
        "Honor or Ignore: whether tainted nodes' domains are counted. "
        f"{_NOT_APPLIED}", protobuf=7)] = None
    match_label_keys: Annotated[list[str] | None, field(
        "Label keys whose values, taken from the incoming pod, narrow labelSelector. "
        f"{_NOT_APPLIED}", protobuf=8, list_type="atomic")] = None


class PodSchedulingGate(K8sModel):
    """A gate that keeps the pod from being scheduled while it is listed."""

    name: Annotated[str | None, field(
        "The gate's name; whoever added the gate removes it.", protobuf=1)] = None
