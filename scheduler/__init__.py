"""Schooner scheduler: assigns pending pods to nodes, as kube-scheduler does.

The public surface: `Scheduler` (the loop), `schedule` (one pure scheduling
cycle) and its `ScheduleResult`, the framework types plugins are written
against, and `default_profile()` with its weights.
"""

from scheduler.cycle import ScheduleResult, schedule
from scheduler.framework import NodeInfo, Profile, Status, unschedulable_message
from scheduler.plugins import WEIGHTS, default_profile
from scheduler.scheduler import Scheduler

__all__ = ["WEIGHTS", "NodeInfo", "Profile", "ScheduleResult", "Scheduler", "Status",
           "default_profile", "schedule", "unschedulable_message"]
