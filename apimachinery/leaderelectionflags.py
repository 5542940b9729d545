"""The --leader-elect* flags kube-scheduler and kube-controller-manager share.

component-base's BindLeaderElectionFlags, reduced to the Lease lock: the same
names, meanings and defaults in both components; only the Lease name differs
(`kube-scheduler`, `kube-controller-manager`).
"""

from __future__ import annotations

import argparse

from apimachinery.client import AsyncClient
from apimachinery.clock import RealClock
from apimachinery.durations import duration
from apimachinery.events import EventRecorder
from apimachinery.leaderelection import (
    DEFAULT_LEASE_DURATION,
    DEFAULT_NAMESPACE,
    DEFAULT_RENEW_DEADLINE,
    DEFAULT_RETRY_PERIOD,
    AlwaysLeader,
    Elector,
    LeaderElectionConfig,
    LeaderElector,
    exit_process,
    new_identity,
)


def add_leader_election_flags(p: argparse.ArgumentParser, resource_name: str) -> None:
    """Add --leader-elect and its timing and Lease flags to a component's parser."""
    p.add_argument("--leader-elect", action=argparse.BooleanOptionalAction, default=False,
                   help="run only while holding a Lease, so several replicas can stand by "
                        "(Kubernetes' default is true; Schooner's single-host cluster runs one)")
    p.add_argument("--leader-elect-lease-duration", type=duration,
                   default=DEFAULT_LEASE_DURATION,
                   help="how long a standby waits after the leader's last renewal before it "
                        "takes the Lease")
    p.add_argument("--leader-elect-renew-deadline", type=duration,
                   default=DEFAULT_RENEW_DEADLINE,
                   help="how long the leader keeps trying to renew before it gives up "
                        "leadership and exits; less than the lease duration")
    p.add_argument("--leader-elect-retry-period", type=duration, default=DEFAULT_RETRY_PERIOD,
                   help="time between attempts to acquire or renew the Lease")
    p.add_argument("--leader-elect-resource-namespace", default=DEFAULT_NAMESPACE,
                   help="namespace of the Lease")
    p.add_argument("--leader-elect-resource-name", default=resource_name,
                   help="name of the Lease")


def leader_election_config(args: argparse.Namespace) -> LeaderElectionConfig:
    """The config the flags describe (ValueError if their timings do not fit together)."""
    return LeaderElectionConfig(name=args.leader_elect_resource_name, identity=new_identity(),
                                namespace=args.leader_elect_resource_namespace,
                                lease_duration=args.leader_elect_lease_duration,
                                renew_deadline=args.leader_elect_renew_deadline,
                                retry_period=args.leader_elect_retry_period)


def elector_from_flags(args: argparse.Namespace, client: AsyncClient, component: str) -> Elector:
    """AlwaysLeader without --leader-elect; else a Lease elector that exits when it loses,
    recording its LeaderElection events on the Lease as `component`."""
    if not args.leader_elect:
        return AlwaysLeader()
    config = leader_election_config(args)
    recorder = EventRecorder(client, component, RealClock())
    return LeaderElector(client, config, recorder=recorder, on_lost=exit_process)
