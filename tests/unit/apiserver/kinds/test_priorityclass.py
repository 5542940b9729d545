"""PriorityClass: defaults, validation, the system classes' protection, Priority admission."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from apimachinery import errors
from apiserver.kinds import registry
from apiserver.kinds.scheduling.priorityclass import (
    RESOURCE,
    ClassCache,
    admit_priority,
    default_priority_class,
    validate_priority_class,
)
from apiserver.registry import DeleteOptions
from apiserver.storage import ListPage

PODS = registry().by_plural("pods").resource


def pc(name: str = "high", **fields: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {"metadata": {"name": name}, "value": 1000, **fields}
    default_priority_class(obj)
    return obj


def messages(obj: dict[str, Any], old: dict[str, Any] | None = None) -> list[str]:
    return [f"{e.path}: {e.message}" for e in validate_priority_class(obj, old)]


class FakeRegistry:
    """The two registry reads admission makes, over a dict of classes."""

    def __init__(self, *classes: dict[str, Any]) -> None:
        self.classes = {c["metadata"]["name"]: c for c in classes}

    async def get(self, resource: Any, namespace: str | None, name: str) -> dict[str, Any]:
        assert resource == RESOURCE
        if name not in self.classes:
            raise errors.not_found(RESOURCE.group_resource, name)
        return self.classes[name]

    async def list(self, resource: Any, namespace: str | None) -> ListPage:
        assert resource == RESOURCE
        return ListPage(list(self.classes.values()), 1, "")


def admit(reg: FakeRegistry, resource: Any, obj: dict[str, Any],
          old: dict[str, Any] | None = None) -> dict[str, Any]:
    asyncio.run(admit_priority(reg, resource, None, obj, old))  # type: ignore[arg-type]
    return obj


def test_preemption_policy_defaults_to_preempt_lower_priority() -> None:
    assert pc()["preemptionPolicy"] == "PreemptLowerPriority"
    assert pc(preemptionPolicy="Never")["preemptionPolicy"] == "Never"


def test_a_user_class_is_valid_up_to_one_billion() -> None:
    assert messages(pc(value=1_000_000_000)) == []
    assert messages(pc(value=1_000_000_001)) == [
        "value: Forbidden: maximum allowed value of a user defined priority is 1000000000"]


def test_system_names_are_reserved_but_the_system_classes_themselves_are_valid() -> None:
    assert messages(pc("system-node-critical", value=2000001000)) == []
    assert messages(pc("system-cluster-critical", value=2000000000)) == []
    assert messages(pc("system-mine", value=5))[0].startswith(
        "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved")
    assert messages(pc("system-node-critical", value=5)) != []


def test_value_and_policy_never_change_and_policy_is_one_of_two() -> None:
    old = pc()
    assert messages(pc(value=1001), old) == ["value: Forbidden: may not be changed in an update."]
    assert messages(pc(preemptionPolicy="Never"), old) == [
        'preemptionPolicy: Invalid value: "Never": field is immutable']
    assert messages(pc(preemptionPolicy="Sometimes"))[0].startswith(
        'preemptionPolicy: Unsupported value: "Sometimes"')
    assert messages({"metadata": {"name": "x"}}) == ["value: Required value"]


def test_the_system_classes_cannot_be_deleted_others_can() -> None:
    strategy = registry().get(RESOURCE).strategy
    with pytest.raises(errors.Forbidden, match="system priority class and cannot be deleted"):
        strategy.check_delete("system-cluster-critical")
    strategy.check_delete("high")
    assert strategy.grace_period_seconds(pc(), DeleteOptions()) == 0


def test_a_pod_gets_its_classs_value() -> None:
    pod = admit(FakeRegistry(pc(value=77)), PODS, {"spec": {"priorityClassName": "high"}})
    assert pod["spec"] == {"priorityClassName": "high", "priority": 77}


def test_a_pod_without_a_class_gets_the_lowest_global_default_or_zero() -> None:
    assert admit(FakeRegistry(pc()), PODS, {"spec": {}})["spec"] == {"priority": 0}
    reg = FakeRegistry(pc("a", value=5, globalDefault=True), pc("b", value=3, globalDefault=True))
    assert admit(reg, PODS, {"spec": {}})["spec"] == {"priorityClassName": "b", "priority": 3}


def test_an_unknown_class_or_a_disagreeing_priority_is_forbidden() -> None:
    with pytest.raises(errors.Forbidden, match='pods "p" is forbidden: no PriorityClass'):
        admit(FakeRegistry(), PODS, {"metadata": {"name": "p"},
                                     "spec": {"priorityClassName": "gone"}})
    with pytest.raises(errors.Forbidden, match=r"priority \(9\) must not be provided"):
        admit(FakeRegistry(pc()), PODS, {"spec": {"priorityClassName": "high", "priority": 9}})
    same = admit(FakeRegistry(pc()), PODS, {"spec": {"priorityClassName": "high",
                                                     "priority": 1000}})
    assert same["spec"]["priority"] == 1000


def test_pod_updates_and_other_kinds_are_left_alone() -> None:
    old = {"spec": {"priority": 1}}
    assert admit(FakeRegistry(), PODS, {"spec": {}}, old) == {"spec": {}}
    configmaps = registry().by_plural("configmaps").resource
    assert admit(FakeRegistry(), configmaps, {"data": {}}) == {"data": {}}


def test_only_one_global_default() -> None:
    reg = FakeRegistry(pc("first", globalDefault=True))
    with pytest.raises(errors.Forbidden, match="first is already marked as default"):
        admit(reg, RESOURCE, pc("second", globalDefault=True))
    admit(reg, RESOURCE, pc("first", globalDefault=True, description="edited"))
    admit(reg, RESOURCE, pc("third"))


class CountingRegistry(FakeRegistry):
    def __init__(self, *classes: dict[str, Any]) -> None:
        super().__init__(*classes)
        self.lists = 0
        self.gets = 0

    async def list(self, resource: Any, namespace: str | None) -> ListPage:
        self.lists += 1
        await asyncio.sleep(0)
        return await super().list(resource, namespace)

    async def get(self, resource: Any, namespace: str | None, name: str) -> dict[str, Any]:
        self.gets += 1
        return await super().get(resource, namespace, name)


def test_the_cache_lists_once_a_ttl_and_shares_one_refresh() -> None:
    now = [0.0]
    cache = ClassCache(ttl=1.0, clock=lambda: now[0])
    reg = CountingRegistry(pc())

    async def run() -> None:
        await asyncio.gather(*(cache.all(reg) for _ in range(20)))  # type: ignore[arg-type]
        assert reg.lists == 1
        now[0] = 0.9
        assert [c["metadata"]["name"] for c in await cache.all(reg)] == ["high"]  # type: ignore[arg-type]
        assert reg.lists == 1
        reg.classes["new"] = pc("new")
        now[0] = 1.0
        await cache.all(reg)  # type: ignore[arg-type]
        assert reg.lists == 2

    asyncio.run(run())


def test_a_name_the_cache_lacks_is_read_live() -> None:
    now = [0.0]
    cache = ClassCache(ttl=60.0, clock=lambda: now[0])
    reg = CountingRegistry()

    async def run() -> None:
        await cache.all(reg)  # type: ignore[arg-type]
        reg.classes["fresh"] = pc("fresh", value=9)
        assert (await cache.get(reg, "fresh"))["value"] == 9  # type: ignore[arg-type]
        with pytest.raises(errors.NotFound):
            await cache.get(reg, "gone")  # type: ignore[arg-type]
        assert (reg.lists, reg.gets) == (1, 2)

    asyncio.run(run())
