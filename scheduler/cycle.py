"""One scheduling cycle as a pure function: pod + NodeInfos + plugins -> a node or a reason.

Mirrors `schedulePod` in `pkg/scheduler/schedule_one.go`: PreFilter once, Filter
nodes (a node's first rejection is its reason) from a rotating start until enough
are feasible (`Profile.num_feasible_nodes_to_find`: every node below 100, 42% of
1,000), and if several nodes are feasible, Score them with every scoring plugin,
NormalizeScore each plugin's scores, weight and sum them, and pick the highest;
ties are broken at random as `selectHost` does, so equal nodes share the load.
No I/O: the caller binds or records the failure.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from apimachinery.typeddicts import Pod
from scheduler.equivalence import NodeVerdicts
from scheduler.framework import (
    MAX_NODE_SCORE,
    MIN_NODE_SCORE,
    NO_NODES_AVAILABLE,
    Code,
    NodeInfo,
    NormalizeScorePlugin,
    Profile,
    Status,
    unschedulable_message,
)

T = TypeVar("T")


@dataclass(frozen=True)
class ScheduleResult:
    """Where the pod goes, or why it cannot go anywhere.

    `node` is None when no node fits (`message` is the FitError text for the
    pod's PodScheduled condition) or when a plugin failed (`error` is set and the
    pod is retried with back-off, as a Kubernetes scheduling error is).
    """

    node: str | None
    message: str = ""
    error: bool = False
    feasible: int = 0
    scores: Mapping[str, int] = field(default_factory=dict)
    processed: int = 0  # nodes filtered; the next cycle starts that many further on


class PluginError(Exception):
    """A plugin raised or answered Error: the cycle stops and the pod is retried."""


def _call(plugin: object, point: str, fn: Callable[..., T], *args: Any) -> T:
    """Run one extension point; a crash becomes `running "X" filter plugin: ...`."""
    try:
        return fn(*args)
    except Exception as exc:
        name = getattr(plugin, "name", type(plugin).__name__)
        raise PluginError(f'running "{name}" {point} plugin: {exc!r}') from exc


def run_pre_filters(pod: Pod, profile: Profile) -> tuple[set[str], Status | None]:
    """Run PreFilter; returns the plugins whose Filter is skipped, and a rejection if any."""
    skipped: set[str] = set()
    for plugin in profile.pre_filters:
        status = _call(plugin, "prefilter", plugin.pre_filter, pod)
        if status.code is Code.SKIP:
            skipped.add(plugin.name)
        elif status.code is Code.ERROR:
            raise PluginError(f'running "{plugin.name}" prefilter plugin: {status.message}')
        elif not status.is_success:
            return skipped, status
    return skipped, None


def filter_node(pod: Pod, node_info: NodeInfo, profile: Profile,
                skipped: AbstractSet[str] = frozenset()) -> Status:
    """RunFilterPlugins: the first plugin that rejects the node decides its reason."""
    for plugin in profile.filters:
        if plugin.name in skipped:
            continue
        status = _call(plugin, "filter", plugin.filter, pod, node_info)
        if status.code is Code.ERROR:
            raise PluginError(f'running "{plugin.name}" filter plugin: {status.message}')
        if not status.is_success:
            return Status(status.code, status.reasons, plugin.name)
    return Status()


def restrict_candidates(pod: Pod, node_infos: Sequence[NodeInfo], profile: Profile
                        ) -> tuple[list[NodeInfo], list[str]]:
    """PreFilterResult.NodeNames: plugins that name the only possible nodes narrow the list.

    The nodes left out get the narrowing plugin's reason, once each, as Kubernetes
    reports them.
    """
    candidates, reasons = list(node_infos), []
    for plugin in profile.candidate_narrowers:
        allowed = _call(plugin, "prefilter", plugin.candidate_nodes, pod, candidates)
        if allowed is None:
            continue
        reasons += [plugin.reason for info in candidates if info.name not in allowed]
        candidates = [info for info in candidates if info.name in allowed]
    return candidates, reasons


def find_feasible(pod: Pod, node_infos: Sequence[NodeInfo], profile: Profile,
                  skipped: AbstractSet[str], start: int = 0, memo: NodeVerdicts | None = None
                  ) -> tuple[list[NodeInfo], list[str], int]:
    """Nodes that pass every filter, one reason per rejection, and how many were checked.

    As findNodesThatPassFilters does, the nodes are checked from `start` round the
    list, and the search stops once `num_feasible_nodes_to_find` of them pass: at
    1,000 nodes a pod is placed among the best of 420, not of all, and successive
    pods start where the last search ended, so every node gets its turn. With `memo`
    (the pod's equivalence class), a NodeInfo already judged for the class is not
    filtered again.
    """
    count = len(node_infos)
    wanted = profile.num_feasible_nodes_to_find(count)
    feasible: list[NodeInfo] = []
    reasons: list[str] = []
    processed = 0
    for i in range(count):
        info = node_infos[(start + i) % count]
        processed += 1
        status = memo.verdict(info) if memo is not None else None
        if status is None:
            status = filter_node(pod, info, profile, skipped)
            if memo is not None:
                memo.remember_verdict(info, status)
        if status.is_success:
            feasible.append(info)
            if len(feasible) >= wanted:
                break
        else:
            reasons.extend(status.reasons)
    return feasible, reasons, processed


def raw_scores(pod: Pod, feasible: Sequence[NodeInfo], profile: Profile,
               memo: NodeVerdicts | None = None) -> list[tuple[int, ...]]:
    """Every scorer's raw score of every node (one tuple per node, in scorer order)."""
    scorers, rows = profile.scorers, []
    for info in feasible:
        row = memo.scores(info) if memo is not None else None
        if row is None:
            row = tuple(_call(plugin, "score", plugin.score, pod, info) for plugin in scorers)
            if memo is not None:
                memo.remember_scores(info, row)
        rows.append(row)
    return rows


def score_nodes(pod: Pod, feasible: Sequence[NodeInfo], profile: Profile,
                memo: NodeVerdicts | None = None) -> dict[str, int]:
    """Sum over scoring plugins of weight * (normalized) score, per node name."""
    names = [info.name for info in feasible]
    rows = raw_scores(pod, feasible, profile, memo)
    totals = dict.fromkeys(names, 0)
    for column, plugin in enumerate(profile.scorers):
        weight = profile.weight(plugin)
        raw = {name: row[column] for name, row in zip(names, rows, strict=True)}
        if plugin.name in profile.normalizers:
            normalizer = cast(NormalizeScorePlugin, plugin)
            raw = _call(plugin, "normalize score", normalizer.normalize_score, pod, raw)
        for name, score in raw.items():
            if not MIN_NODE_SCORE <= score <= MAX_NODE_SCORE:
                raise PluginError(f'plugin "{plugin.name}" returns an invalid score {score} '
                                  f'for node "{name}"')
            totals[name] += score * weight
    return totals


def select_host(totals: Mapping[str, int], rng: random.Random | None = None) -> str:
    """The highest total; ties go to a random one (or the first, without `rng`)."""
    best = max(totals.values())
    tied = [name for name, score in totals.items() if score == best]
    return rng.choice(tied) if rng is not None and len(tied) > 1 else tied[0]


def schedule(pod: Pod, node_infos: Sequence[NodeInfo], profile: Profile, *,
             rng: random.Random | None = None, start: int = 0,
             memo: NodeVerdicts | None = None) -> ScheduleResult:
    """Decide where `pod` goes among `node_infos` (nothing is written anywhere).

    `start` is where the filter search begins (the scheduler's nextStartNodeIndex);
    `memo` holds what earlier pods of the same equivalence class learned about these
    very NodeInfos (scheduler/equivalence.py).
    """
    if not node_infos:
        return ScheduleResult(None, NO_NODES_AVAILABLE)
    try:
        skipped, rejection = run_pre_filters(pod, profile)
        if rejection is not None:
            return ScheduleResult(None, unschedulable_message(
                len(node_infos), [], pre_filter_message=rejection.message))
        candidates, narrowed = restrict_candidates(pod, node_infos, profile)
        feasible, reasons, processed = find_feasible(pod, candidates, profile, skipped,
                                                     start, memo)
        reasons = narrowed + reasons
        if not feasible:
            return ScheduleResult(None, unschedulable_message(len(node_infos), reasons),
                                  processed=processed)
        if len(feasible) == 1:  # Kubernetes skips scoring when there is no choice
            return ScheduleResult(feasible[0].name, feasible=1, processed=processed)
        totals = score_nodes(pod, feasible, profile, memo)
    except PluginError as exc:
        return ScheduleResult(None, str(exc), error=True)
    return ScheduleResult(select_host(totals, rng), feasible=len(feasible), scores=totals,
                          processed=processed)
