"""The audit log: Kubernetes' audit.k8s.io/v1 Events, chosen by a Policy, written as JSON lines.

policy.py reads the Policy file and decides each request's level and stages;
event.py builds the Event; writer.py writes it off the event loop, with rotation.
"""
