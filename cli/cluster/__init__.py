"""The local cluster: what `schooner up|down|status` run, and the launcher tests and bench share.

One concern per module:

- `layout`: where a cluster lives, its home's files (`Paths`) and its ports (`Ports`);
- `credentials`: its PKI, tokens and kubeconfigs (the admin's, and one per component
  with its own identity), made once and kept;
- `components`: what it runs, each component's command line, health URL and ports;
- `supervisor`: detached components with pid files: start, stop, health, the lock;
- `local`: the cluster as a whole, `up`, `down` and `status` of one home;
- `updown`: the `schooner up|down|status` commands over `local`;
- `etcdsnapshot`: etcdctl's `snapshot save`, `status` and `restore`;
- `archive`: a backup, the etcd snapshot with the PKI and tokens in one archive;
- `restore`: a backup into a fresh home (`schooner backup|restore` are `cli.backup`);
- `processes`: an etcd, apiserver or controller-manager as a child process of the
  caller on free ports (integration tests, benchmarks), and `wait_for`;
- `throwaway`: a whole local cluster of a caller's own through `local` (e2e tests,
  benchmarks), with its Docker leftovers removed after.

The names below are the cluster's lifecycle, for callers that drive it.
"""

from cli.cluster.layout import Paths, Ports
from cli.cluster.local import ClusterStatus, down, status, up
from cli.cluster.supervisor import ClusterError, Component

__all__ = ["ClusterError", "ClusterStatus", "Component", "Paths", "Ports", "down", "status", "up"]
