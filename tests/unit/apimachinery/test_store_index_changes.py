"""Store.index_changes: which index values were touched since a generation, in O(changes)."""

from __future__ import annotations

from apimachinery.informer import Store
from apimachinery.meta import Object


def pod(name: str, node: str | None) -> Object:
    return {"metadata": {"name": name, "namespace": "ns"}, "spec": {"nodeName": node}}


def by_node(obj: Object) -> list[str]:
    node = obj["spec"].get("nodeName")
    return [node] if node else []


def store() -> Store:
    s = Store()
    s.add_indexer("node", by_node)
    return s


def test_changes_name_every_value_touched_since_and_no_other() -> None:
    s = store()
    s._put(pod("a", "n1"))
    s._put(pod("b", "n2"))
    seen, changed = s.index_changes("node", 0)
    assert sorted(changed or []) == ["n1", "n2"]
    s._put(pod("a", "n3"))  # moved: n1 lost it, n3 gained it
    now, changed = s.index_changes("node", seen)
    assert sorted(changed or []) == ["n1", "n3"] and now > seen
    assert s.index_changes("node", now) == (now, [])


def test_removal_and_replacement_touch_the_value() -> None:
    s = store()
    s._put(pod("a", "n1"))
    seen, _ = s.index_changes("node", 0)
    s._put(pod("a", "n1"))  # a status update: same node, new object
    seen, changed = s.index_changes("node", seen)
    assert changed == ["n1"]
    s._pop("ns/a")
    assert s.index_changes("node", seen)[1] == ["n1"]
    assert s.index_generation("node", "n1") > 0 and s.index_generation("node", "n9") == 0


def test_generation_moves_on_every_write() -> None:
    s = store()
    before = s.generation
    s._put(pod("a", None))
    s._pop("ns/a")
    s._pop("ns/missing")
    assert s.generation == before + 2


def test_a_reader_older_than_a_prune_is_told_to_rebuild_everything() -> None:
    s = store()
    seen, _ = s.index_changes("node", 0)
    for i in range(1100):  # values that are emptied again at once pile up, then get pruned
        s._put(pod("a", f"n{i}"))
    s._pop("ns/a")
    now, changed = s.index_changes("node", seen)
    assert changed is None
    assert s.index_changes("node", now) == (now, [])
    assert len(s._index_touched["node"]) < 1100
