"""Image garbage collection by disk thresholds (the kubelet's image GC manager).

* `policy`: pure decisions: how much to free, which images may go and in what order;
* `manager`: `ImageGC`, the loop that observes the runtime, decides and removes.
"""
