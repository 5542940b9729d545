"""Node-pressure eviction (the kubelet's eviction manager).

* `signals`: the `--eviction-hard` thresholds and the node's observed signals;
* `ranking`: the order pods are evicted in;
* `manager`: `EvictionManager`, the loop that observes, sets pressure and evicts.
"""
