"""Prometheus metrics of the apiserver, named as Kubernetes' apiserver names them."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "apiserver_request_total", "API requests by verb, resource and HTTP code.",
    ["verb", "resource", "subresource", "code"], registry=REGISTRY)

REQUEST_LATENCY = Histogram(
    "apiserver_request_duration_seconds", "API request latency by verb and resource.",
    ["verb", "resource", "subresource"], registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))

ETCD_LATENCY = Histogram(
    "etcd_request_duration_seconds", "etcd request latency by operation.",
    ["operation"], registry=REGISTRY,
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5))

WATCHERS = Gauge(
    "apiserver_registered_watchers", "Open watch streams by resource.",
    ["resource"], registry=REGISTRY)

WATCH_EVENTS = Counter(
    "apiserver_watch_events_total", "Watch events sent to clients by resource.",
    ["resource"], registry=REGISTRY)

WATCHERS_TERMINATED = Counter(
    "apiserver_terminated_watchers_total",
    "Watchers closed because they fell too far behind.", ["resource"], registry=REGISTRY)

# Flow control (apiserver/flowcontrol.py), named as APF's metrics are.
FLOWCONTROL_REJECTED = Counter(
    "apiserver_flowcontrol_rejected_requests_total",
    "Requests refused with 429 by priority level and reason (queue-full, time-out).",
    ["priority_level", "reason"], registry=REGISTRY)

FLOWCONTROL_DISPATCHED = Counter(
    "apiserver_flowcontrol_dispatched_requests_total",
    "Requests given a seat (or exempt, or long-running) by priority level.",
    ["priority_level"], registry=REGISTRY)

FLOWCONTROL_EXECUTING = Gauge(
    "apiserver_flowcontrol_current_executing_requests",
    "Requests holding a seat now, by priority level.", ["priority_level"], registry=REGISTRY)

FLOWCONTROL_INQUEUE = Gauge(
    "apiserver_flowcontrol_current_inqueue_requests",
    "Requests waiting for a seat now, by priority level.", ["priority_level"], registry=REGISTRY)

FLOWCONTROL_NOMINAL_SEATS = Gauge(
    "apiserver_flowcontrol_nominal_limit_seats",
    "Seats of each priority level for reads (readOnly) and writes (mutating); 0: no limit.",
    ["priority_level", "request_kind"], registry=REGISTRY)

FLOWCONTROL_WAIT = Histogram(
    "apiserver_flowcontrol_request_wait_duration_seconds",
    "Time a request waited for a seat (or to be refused), by priority level.",
    ["priority_level"], registry=REGISTRY,
    buckets=(0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15))
