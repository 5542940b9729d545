"""TypedDicts of the objects Schooner serves, in their wire form (camelCase keys).

GENERATED from the pydantic models in apimachinery/models by apimachinery/typeddicts_gen.py;
do not edit. After changing a model, regenerate with

    python -m apimachinery.typeddicts_gen

(tests/unit/apimachinery/test_typeddicts.py fails until the module matches the models).

These types cost nothing at run time: an object is the dict the informer or the client
decoded, and `cast(Pod, obj)` (or an accessor of apimachinery.meta) only tells the type
checker what it holds. Every key is optional and a null reads like an absent key, so read
with `.get(...)` and a default. Keys the models do not declare (kept as extra fields)
are not here: read them through a `Mapping[str, Any]` (`meta.undeclared`).
"""

from __future__ import annotations

from typing import Any, TypedDict

IntOrString = int | str
Quantity = str | int | float
ResourceList = dict[str, Quantity]


class OwnerReference(TypedDict, total=False):
    """Points at an object that owns this one; the garbage collector follows these links."""

    # API group and version of the owner, e.g. `apps/v1`.
    apiVersion: str
    # Kind of the owner, e.g. `ReplicaSet`.
    kind: str
    # Name of the owner, in this object's namespace.
    name: str
    # UID of the owner. The garbage collector deletes this object once no owner with this UID
    # exists any more, so a recreated owner of the same name does not adopt it.
    uid: str
    # True on the one owner that manages this object (a ReplicaSet for its pods). Schooner
    # refuses more than one controller reference per object.
    controller: bool
    # When true, a foreground deletion of the owner waits until this object is gone.
    blockOwnerDeletion: bool


class ObjectMeta(TypedDict, total=False):
    """`metadata` of every object (metav1.ObjectMeta)."""

    # The object's name, unique per kind within its namespace. Required unless generateName is
    # given; most kinds require a DNS-1123 subdomain, Namespaces a DNS label and Services a
    # DNS-1035 label. It cannot change.
    name: str
    # A prefix from which the apiserver makes a unique name (five random characters appended)
    # when `name` is empty.
    generateName: str
    # The namespace of a namespaced object (filled from the request path, required); refused
    # on cluster-scoped kinds. It cannot change.
    namespace: str
    # Set by the apiserver on create, unique for all time; owner references and delete
    # preconditions name objects by it. It cannot change.
    uid: str
    # The etcd revision of the object's last write, set by the apiserver. Sent back on an
    # update, it makes the write fail with a Conflict if the object changed since; watches
    # resume from it.
    resourceVersion: str
    # Counts changes to the object's desired state, set by the apiserver; controllers report
    # the generation they acted on as status.observedGeneration.
    generation: int
    # When the apiserver stored the object first (RFC 3339, set by the server). It cannot
    # change.
    creationTimestamp: str
    # Set by the apiserver when deletion was asked for but finalizers, or a pod's graceful
    # termination, still hold the object; read-only for clients.
    deletionTimestamp: str
    # The grace period of a pending deletion, in seconds, set with deletionTimestamp; the
    # agent gives a deleted pod's containers this long to stop.
    deletionGracePeriodSeconds: int
    # Key/value pairs selectors match: Services, ReplicaSets, Deployments and `kubectl get -l`
    # find objects by them. Keys are qualified names, values label values.
    labels: dict[str, str]
    # Key/value pairs for tools and controllers (kubectl's last-applied configuration, a
    # Deployment's revision); not used to select objects. At most 256 KiB in total.
    annotations: dict[str, str]
    # The objects this one depends on. The garbage collector deletes the object when all its
    # owners are gone, unless it is orphaned.
    ownerReferences: list[OwnerReference]
    # Names of cleanups that must finish before the object is removed: a deletion only sets
    # deletionTimestamp while this list is non-empty, and each controller removes its own
    # entry when done.
    finalizers: list[str]
    # Which manager owns which fields (FieldsV1), kept by the apiserver on every write:
    # server-side apply's conflicts and removals follow it.
    managedFields: list[dict[str, Any]]


class NamespaceSpec(TypedDict, total=False):
    """What a namespace needs before it may be removed."""

    # Set to `kubernetes` at creation; the namespace controller removes it once everything in
    # the namespace is gone, and only then is the namespace deleted.
    finalizers: list[str]


class NamespaceCondition(TypedDict, total=False):
    """One aspect of a namespace's deletion, such as content that cannot be removed."""

    # The aspect, e.g. NamespaceDeletionContentFailure or NamespaceContentRemaining.
    type: str
    # True, False or Unknown.
    status: str
    # When status last changed.
    lastTransitionTime: str
    # A CamelCase reason for the status.
    reason: str
    # Details for people.
    message: str


class NamespaceStatus(TypedDict, total=False):
    """Whether the namespace accepts new objects."""

    # Active, or Terminating once deletion began; a Terminating namespace refuses new objects.
    phase: str
    # Conditions of the namespace's deletion. Stored; Schooner's namespace controller does not
    # write them.
    conditions: list[NamespaceCondition]


class Namespace(TypedDict, total=False):
    """A scope for names; deleting it deletes everything in it."""

    # The API group and version the object is written in (`v1`, `apps/v1`); the apiserver
    # fills it in on every object it returns.
    apiVersion: str
    # The object's kind (`Pod`, `Deployment`), which picks its schema; the apiserver fills it
    # in on every object it returns.
    kind: str
    # The object's metadata: name, namespace, labels, owners and the fields the apiserver
    # sets.
    metadata: ObjectMeta
    # The namespace's finalizers.
    spec: NamespaceSpec
    # The namespace's phase, set by the apiserver.
    status: NamespaceStatus


class Taint(TypedDict, total=False):
    """`key=value:effect` that repels pods without a matching toleration."""

    # The taint's key, a qualified name.
    key: str
    # The taint's value, a label value.
    value: str
    # NoSchedule (the scheduler keeps new pods off), PreferNoSchedule (it avoids the node) or
    # NoExecute (pods not tolerating it are also evicted).
    effect: str
    # When a NoExecute taint was added; toleration seconds count from here.
    timeAdded: str


class NodeSpec(TypedDict, total=False):
    """How the node is set up: its pod network range, and whether pods may land on it."""

    # The node's pod IP range, assigned once by the node IPAM controller from the cluster
    # CIDR; it may be set only once.
    podCIDR: str
    # The node's pod IP ranges; the first equals podCIDR.
    podCIDRs: list[str]
    # An ID of the machine at its provider; set at most once.
    providerID: str
    # When true (`kubectl cordon`), the scheduler places no new pods on the node.
    unschedulable: bool
    # Taints that repel pods without matching tolerations; the node lifecycle controller adds
    # and removes the not-ready and unreachable ones.
    taints: list[Taint]


class NodeCondition(TypedDict, total=False):
    """One aspect of the node's health, written by its agent."""

    # Ready, MemoryPressure, DiskPressure or PIDPressure.
    type: str
    # True, False or Unknown; the node lifecycle controller sets Unknown when the agent stops
    # reporting.
    status: str
    # When the agent last reported this condition.
    lastHeartbeatTime: str
    # When status last changed.
    lastTransitionTime: str
    # A CamelCase reason, e.g. KubeletReady.
    reason: str
    # Details for people.
    message: str


class NodeAddress(TypedDict, total=False):
    """One address of the node."""

    # InternalIP (what other nodes route pod traffic through) or Hostname.
    type: str
    # The address.
    address: str


class DaemonEndpoint(TypedDict, total=False):
    """A port a daemon of the node listens on."""

    # The port. Its wire name is capitalised (`Port`), as in Kubernetes.
    Port: int


class NodeDaemonEndpoints(TypedDict, total=False):
    """Where the node's daemons listen."""

    # The agent's own server, which the apiserver calls for logs, exec and port-forward.
    kubeletEndpoint: DaemonEndpoint


class NodeSystemInfo(TypedDict, total=False):
    """Facts about the machine, reported by its agent."""

    # The machine ID (/etc/machine-id).
    machineID: str
    # The system UUID; Schooner's agent reports the machine ID.
    systemUUID: str
    # Changes at every boot of the machine.
    bootID: str
    # The kernel release, as `uname -r` prints it.
    kernelVersion: str
    # The operating system's name, from /etc/os-release.
    osImage: str
    # The container runtime and its version, `docker://<version>`.
    containerRuntimeVersion: str
    # The agent's version, as a kubelet's (`v1.32.0-schooner`).
    kubeletVersion: str
    # Deprecated in Kubernetes; the agent reports its own version.
    kubeProxyVersion: str
    # The GOOS-style system name: linux.
    operatingSystem: str
    # The GOARCH-style architecture: amd64, arm64...
    architecture: str


class ContainerImage(TypedDict, total=False):
    """An image present on the node."""

    # The image's names and digests.
    names: list[str]
    # The image's size in bytes.
    sizeBytes: int


class AttachedVolume(TypedDict, total=False):
    """A volume the node holds."""

    # The volume's unique name; Schooner's agent writes `schooner.io/pvc/<namespace>/<claim>`
    # for a claim's volume.
    name: str
    # Where the volume is on the node; Schooner's agent writes the Docker volume's name.
    devicePath: str


class NodeStatus(TypedDict, total=False):
    """What the node's agent last reported about it."""

    # The node's cpu, memory, ephemeral-storage and pod slots.
    capacity: ResourceList
    # What the scheduler may hand out to pods; equal to capacity in Schooner.
    allocatable: ResourceList
    # Deprecated in Kubernetes; stored, not written by Schooner.
    phase: str
    # Ready and the pressure conditions, refreshed by the agent on every heartbeat.
    conditions: list[NodeCondition]
    # The node's InternalIP and Hostname.
    addresses: list[NodeAddress]
    # The port of the agent's own server, which the apiserver calls for logs and exec.
    daemonEndpoints: NodeDaemonEndpoints
    # Facts about the machine: kernel, OS image, architecture, container runtime.
    nodeInfo: NodeSystemInfo
    # Images present on the node. Stored; the agent does not report them.
    images: list[ContainerImage]
    # The volumes attached to the node, as its agent reports them; the scheduler's volume
    # binding reads them.
    volumesAttached: list[AttachedVolume]


class Node(TypedDict, total=False):
    """A machine that runs pods: registered and kept up to date by its agent."""

    # The API group and version the object is written in (`v1`, `apps/v1`); the apiserver
    # fills it in on every object it returns.
    apiVersion: str
    # The object's kind (`Pod`, `Deployment`), which picks its schema; the apiserver fills it
    # in on every object it returns.
    kind: str
    # The object's metadata: name, namespace, labels, owners and the fields the apiserver
    # sets.
    metadata: ObjectMeta
    # The node's pod range, taints and cordon.
    spec: NodeSpec
    # What the agent reports: resources, conditions, addresses.
    status: NodeStatus


class ContainerPort(TypedDict, total=False):
    """A port the container listens on; it names the port for probes and Services."""

    # The port number inside the pod's network namespace (1-65535).
    containerPort: int
    # An IANA-style name, unique in the container, that probes and a Service's targetPort may
    # use instead of the number.
    name: str
    # TCP (the default), UDP or SCTP.
    protocol: str
    # A port on the node claimed for this pod: the scheduler keeps two pods claiming the same
    # host port apart, but the agent does not publish it.
    hostPort: int
    # The node address the host port is claimed on (default: all); read only by the
    # scheduler's port check.
    hostIP: str


class ConfigMapKeySelector(TypedDict, total=False):
    """One key of a ConfigMap in the pod's namespace, as an environment variable's value."""

    # Name of the ConfigMap, in the pod's namespace (required).
    name: str
    # The key whose value becomes the variable's.
    key: str
    # When true, a missing object or key is skipped instead of keeping the container from
    # starting.
    optional: bool


class SecretKeySelector(TypedDict, total=False):
    """One key of a Secret in the pod's namespace, as an environment variable's value."""

    # Name of the Secret, in the pod's namespace (required).
    name: str
    # The key whose decoded value becomes the variable's.
    key: str
    # When true, a missing object or key is skipped instead of keeping the container from
    # starting.
    optional: bool


class ObjectFieldSelector(TypedDict, total=False):
    """The downward API: `fieldPath: metadata.name`, `status.podIP`..."""

    # Version the field path is written against; only `v1`, the default.
    apiVersion: str
    # The pod field to read: metadata.name, metadata.namespace, metadata.uid,
    # metadata.labels['<key>'], metadata.annotations['<key>'], spec.nodeName,
    # spec.serviceAccountName, status.hostIP(s) or status.podIP(s).
    fieldPath: str


class ResourceFieldSelector(TypedDict, total=False):
    """A container's own cpu or memory request or limit, as an environment variable's value."""

    # The container whose resources are read; defaults to the variable's own.
    containerName: str
    # limits.cpu, limits.memory, limits.ephemeral-storage, requests.cpu, requests.memory or
    # requests.ephemeral-storage: the value to read.
    resource: str
    # The unit the value is given in, rounded up; defaults to 1.
    divisor: Quantity


class EnvVarSource(TypedDict, total=False):
    """Where a variable's value comes from; exactly one source may be set."""

    # Take the value from a ConfigMap key.
    configMapKeyRef: ConfigMapKeySelector
    # Take the value from a Secret key.
    secretKeyRef: SecretKeySelector
    # Take the value from a field of the pod itself (the downward API).
    fieldRef: ObjectFieldSelector
    # Take the value from the container's own cpu or memory request or limit, rounded up.
    resourceFieldRef: ResourceFieldSelector


class EnvVar(TypedDict, total=False):
    """One environment variable of a container."""

    # The variable's name; a later entry of the same name wins.
    name: str
    # A literal value. `$(NAME)` refers to a variable defined earlier in the container and is
    # expanded; `$$` writes a `$`.
    value: str
    # Read the value from elsewhere instead; not allowed together with a non-empty value.
    valueFrom: EnvVarSource


class ConfigMapEnvSource(TypedDict, total=False):
    """A ConfigMap whose every key becomes an environment variable."""

    # Name of the ConfigMap, in the pod's namespace (required).
    name: str
    # When true, a missing ConfigMap adds nothing instead of keeping the container from
    # starting.
    optional: bool


class SecretEnvSource(TypedDict, total=False):
    """A Secret whose every key becomes an environment variable."""

    # Name of the Secret, in the pod's namespace (required).
    name: str
    # When true, a missing Secret adds nothing instead of keeping the container from starting.
    optional: bool


class EnvFromSource(TypedDict, total=False):
    """A whole ConfigMap or Secret as environment variables; exactly one of the two."""

    # Prepended to every key to make the variable's name.
    prefix: str
    # The ConfigMap to read.
    configMapRef: ConfigMapEnvSource
    # The Secret to read.
    secretRef: SecretEnvSource


class ResourceRequirements(TypedDict, total=False):
    """A container's cpu and memory: what the scheduler reserves and what Docker enforces."""

    # The most the container may use: a cpu limit becomes a Docker CPU quota, a memory limit
    # Docker's memory limit. A request above its limit is refused.
    limits: ResourceList
    # What the scheduler reserves on the node for the container; a cpu request also sets
    # Docker's CPU shares. Without one, the limit counts as the request.
    requests: ResourceList


class VolumeMount(TypedDict, total=False):
    """Where one of the pod's volumes appears inside a container."""

    # The pod volume to mount; it must be one of spec.volumes.
    name: str
    # The path in the container, unique among the container's mounts.
    mountPath: str
    # Mount read-only (configMap and secret volumes always are).
    readOnly: bool
    # Mount only this relative path of the volume; the agent supports it for host-backed
    # volumes (configMap, secret, hostPath).
    subPath: str


class ExecAction(TypedDict, total=False):
    """Run a command in the container; exit code 0 is success."""

    # The command and its arguments, run directly (no shell) through Docker exec.
    command: list[str]


class HTTPHeader(TypedDict, total=False):
    """One header of an httpGet probe or hook request."""

    # The header's name.
    name: str
    # The header's value.
    value: str


class HTTPGetAction(TypedDict, total=False):
    """An HTTP GET the agent sends to the pod; for a probe, 2xx and 3xx are success."""

    # The request path; defaults to `/`.
    path: str
    # The port, by number or by the name of a container port.
    port: int | str
    # The host to connect to; defaults to the pod's IP.
    host: str
    # HTTP (the default) or HTTPS; certificates are not verified.
    scheme: str
    # Extra request headers.
    httpHeaders: list[HTTPHeader]


class TCPSocketAction(TypedDict, total=False):
    """Open a TCP connection; a connection that opens is success."""

    # The port, by number or by the name of a container port.
    port: int | str
    # The host to connect to; defaults to the pod's IP.
    host: str


class GRPCAction(TypedDict, total=False):
    """A gRPC health check (grpc.health.v1), without TLS, as the kubelet's."""

    # The port of the gRPC server (1-65535).
    port: int
    # The service name sent in the health check request; empty asks about the server as a
    # whole.
    service: str


class Probe(TypedDict, total=False):
    """Liveness/readiness/startup probe: one handler plus the timing fields."""

    # Probe by running a command in the container.
    exec: ExecAction
    # Probe with an HTTP GET.
    httpGet: HTTPGetAction
    # Probe by opening a TCP connection.
    tcpSocket: TCPSocketAction
    # A gRPC health check (grpc.health.v1.Health/Check on the pod's IP): SERVING passes.
    grpc: GRPCAction
    # Seconds after the container starts before the first probe.
    initialDelaySeconds: int
    # Seconds one probe may take before it counts as failed; defaults to 1.
    timeoutSeconds: int
    # Seconds between probes; defaults to 10.
    periodSeconds: int
    # Successes in a row after a failure that make the probe pass; defaults to 1, and must be
    # 1 except for readiness.
    successThreshold: int
    # Failures in a row that make the probe fail; defaults to 3. A failed liveness or startup
    # probe restarts the container, a failed readiness probe takes the pod out of its
    # Services.
    failureThreshold: int
    # The grace period of the kill a failed liveness or startup probe causes, instead of the
    # pod's (not while the pod is being deleted); refused on a readiness probe.
    terminationGracePeriodSeconds: int


class SleepAction(TypedDict, total=False):
    """A hook that waits instead of running anything in the container."""

    # How long to wait; it must fit in the pod's termination grace period.
    seconds: int


class LifecycleHandler(TypedDict, total=False):
    """The one action of a postStart or preStop hook."""

    # Run a command in the container; a non-zero exit fails the hook.
    exec: ExecAction
    # Send an HTTP GET; only a request that cannot be made fails the hook, whatever the status
    # code.
    httpGet: HTTPGetAction
    # Accepted for compatibility only: the agent reports it as a handler it cannot run.
    tcpSocket: TCPSocketAction
    # Wait `seconds` without running anything in the container.
    sleep: SleepAction


class Lifecycle(TypedDict, total=False):
    """Hooks the agent runs around a container's start and stop."""

    # Run right after the container starts; if it fails, the container is killed and restarted
    # by the pod's restart policy.
    postStart: LifecycleHandler
    # Run before the container is stopped, within the pod's grace period; a failed hook is
    # reported and the stop goes on.
    preStop: LifecycleHandler


class Capabilities(TypedDict, total=False):
    """Linux capabilities to add to or drop from the runtime's default set."""

    # Capabilities to add, e.g. NET_ADMIN. Applied by Schooner's agent.
    add: list[str]
    # Capabilities to drop, e.g. ALL. Applied by Schooner's agent.
    drop: list[str]


class SELinuxOptions(TypedDict, total=False):
    """An SELinux label for a pod or container."""

    # The SELinux user of the label. Refused by Schooner's apiserver (the agent cannot apply
    # it).
    user: str
    # The SELinux role of the label. Refused by Schooner's apiserver (the agent cannot apply
    # it).
    role: str
    # The SELinux type of the label. Refused by Schooner's apiserver (the agent cannot apply
    # it).
    type: str
    # The SELinux level of the label. Refused by Schooner's apiserver (the agent cannot apply
    # it).
    level: str


class WindowsSecurityContextOptions(TypedDict, total=False):
    """Windows-only settings: a GMSA credential spec, the user name, host-process mode."""

    # The GMSACredentialSpec resource to use. Refused by Schooner's apiserver (the agent
    # cannot apply it).
    gmsaCredentialSpecName: str
    # The GMSA credential spec's content, inlined. Refused by Schooner's apiserver (the agent
    # cannot apply it).
    gmsaCredentialSpec: str
    # The Windows user to run the entrypoint as. Refused by Schooner's apiserver (the agent
    # cannot apply it).
    runAsUserName: str
    # Run as a Windows host process container. Refused by Schooner's apiserver (the agent
    # cannot apply it).
    hostProcess: bool


class SeccompProfile(TypedDict, total=False):
    """Which seccomp profile confines the processes."""

    # RuntimeDefault (Docker's default profile) or Unconfined are applied; Localhost is
    # refused. Applied by Schooner's agent.
    type: str
    # For type Localhost, the profile's path on the node. Refused by Schooner's apiserver (the
    # agent cannot apply it).
    localhostProfile: str


class AppArmorProfile(TypedDict, total=False):
    """Which AppArmor profile confines the processes."""

    # RuntimeDefault (the engine's default) is accepted; Unconfined and Localhost are refused.
    # Applied by Schooner's agent.
    type: str
    # For type Localhost, the name of a profile loaded on the node. Refused by Schooner's
    # apiserver (the agent cannot apply it).
    localhostProfile: str


class SecurityContext(TypedDict, total=False):
    """Users, capabilities and privileges for one container; over the pod's where both set."""

    # Capabilities to add and drop. Applied by Schooner's agent.
    capabilities: Capabilities
    # Run the container privileged, as root on the node. true is refused: the Docker engines
    # of Schooner's nodes refuse privileged containers. Refused by Schooner's apiserver (the
    # agent cannot apply it).
    privileged: bool
    # The container's SELinux label. Refused by Schooner's apiserver (the agent cannot apply
    # it).
    seLinuxOptions: SELinuxOptions
    # The container's Windows settings. Refused by Schooner's apiserver (the agent cannot
    # apply it).
    windowsOptions: WindowsSecurityContextOptions
    # The user ID the container's process runs as. Applied by Schooner's agent.
    runAsUser: int
    # The primary group ID of the container's process. Applied by Schooner's agent.
    runAsGroup: int
    # When true, the container must not run as root. Applied by Schooner's agent.
    runAsNonRoot: bool
    # Mount the container's root filesystem read-only. Applied by Schooner's agent.
    readOnlyRootFilesystem: bool
    # Whether a process may gain more privileges than its parent. Applied by Schooner's agent.
    allowPrivilegeEscalation: bool
    # Default or Unmasked: how /proc is mounted. Default is applied; Unmasked is refused.
    # Applied by Schooner's agent.
    procMount: str
    # The container's seccomp profile. Applied by Schooner's agent.
    seccompProfile: SeccompProfile
    # The container's AppArmor profile (type RuntimeDefault only). Applied by Schooner's
    # agent.
    appArmorProfile: AppArmorProfile


class Container(TypedDict, total=False):
    """One container of a pod; the agent runs it with Docker inside the pod's sandbox."""

    # A DNS label, unique among the pod's containers; it cannot change.
    name: str
    # The image to run, as Docker names it (`nginx:1.27`). Required; the one container field a
    # pod update may change, which restarts the container.
    image: str
    # Replaces the image's ENTRYPOINT (and drops its CMD); `$(NAME)` expands from the
    # container's environment.
    command: list[str]
    # Replaces the image's CMD; `$(NAME)` expands from the container's environment.
    args: list[str]
    # The working directory; defaults to the image's.
    workingDir: str
    # Ports the container listens on. Informational for traffic (the pod's IP reaches every
    # port); names are used by probes and Services, host ports by the scheduler.
    ports: list[ContainerPort]
    # Environment variables, applied after envFrom and overriding it.
    env: list[EnvVar]
    # ConfigMaps and Secrets whose keys all become environment variables, in order.
    envFrom: list[EnvFromSource]
    # The container's cpu and memory requests and limits; they also decide the pod's QoS
    # class.
    resources: ResourceRequirements
    # The pod volumes mounted into this container.
    volumeMounts: list[VolumeMount]
    # Checked periodically; when it fails, the agent restarts the container.
    livenessProbe: Probe
    # Checked periodically; the container is Ready, and the pod an endpoint of its Services,
    # only while it passes.
    readinessProbe: Probe
    # Holds the other probes back until it passes once; a failure restarts the container.
    startupProbe: Probe
    # postStart and preStop hooks.
    lifecycle: Lifecycle
    # Always, IfNotPresent or Never: when the agent pulls the image. Defaults to Always for
    # `:latest` or untagged images, else IfNotPresent.
    imagePullPolicy: str
    # A file the container may write its termination message to (default
    # /dev/termination-log); the agent mounts one there and copies at most 4096 bytes of it
    # into the terminated state's message.
    terminationMessagePath: str
    # File (the default) or FallbackToLogsOnError: with an empty file and a non-zero exit, the
    # last log lines (80 lines, 2048 bytes) are the message.
    terminationMessagePolicy: str
    # Users, capabilities and privileges for the container, applied by the agent; what it
    # cannot apply is refused (docs/security.md).
    securityContext: SecurityContext
    # Keep a stdin open for the container. Refused when true: the agent keeps none.
    stdin: bool
    # Close the container's stdin after the first attach ends. Refused when true: the agent
    # keeps no stdin.
    stdinOnce: bool
    # Give the container a terminal. Refused when true: the agent allocates none.
    tty: bool
    # Only `Always`, on an init container: a sidecar that keeps running beside the pod's
    # containers. Refused (a 422): Schooner's agent does not run sidecars yet; on an app
    # container it is forbidden, as in Kubernetes.
    restartPolicy: str


class EmptyDirVolumeSource(TypedDict, total=False):
    """A scratch volume that lives as long as the pod (a Docker volume on the node)."""

    # `Memory` backs the volume with tmpfs; empty (the default) with the node's disk.
    medium: str
    # The volume's size cap, passed to Docker when it creates the volume.
    sizeLimit: Quantity


class KeyToPath(TypedDict, total=False):
    """One key of a ConfigMap or Secret volume, written to a file of its own path."""

    # The key to write.
    key: str
    # The file's path, relative to the volume's root.
    path: str
    # The file's permission bits; defaults to the volume's defaultMode.
    mode: int


class ConfigMapVolumeSource(TypedDict, total=False):
    """A ConfigMap's keys as files, written by the agent and mounted read-only."""

    # Name of the ConfigMap, in the pod's namespace (required).
    name: str
    # Only these keys, at these paths; by default every key becomes a file named after it.
    items: list[KeyToPath]
    # Permission bits of the files (0-0777); defaults to 0644.
    defaultMode: int
    # When true, a missing ConfigMap or key gives an empty volume instead of keeping the pod
    # from starting.
    optional: bool


class SecretVolumeSource(TypedDict, total=False):
    """A Secret's keys as files, decoded, written by the agent and mounted read-only."""

    # Name of the Secret, in the pod's namespace (required).
    secretName: str
    # Only these keys, at these paths; by default every key becomes a file named after it.
    items: list[KeyToPath]
    # Permission bits of the files (0-0777); defaults to 0644.
    defaultMode: int
    # When true, a missing Secret or key gives an empty volume instead of keeping the pod from
    # starting.
    optional: bool


class HostPathVolumeSource(TypedDict, total=False):
    """A file or directory of the node, bind-mounted into the pod."""

    # The path on the node.
    path: str
    # What must be at the path: empty (no check), DirectoryOrCreate or FileOrCreate (the agent
    # creates it), Directory, File, Socket, CharDevice or BlockDevice.
    type: str


class PersistentVolumeClaimVolumeSource(TypedDict, total=False):
    """A claim's storage. Schooner has no PersistentVolumes: the claim is a node-local Docker volume
    that outlives the pod, and the scheduler brings the pod back to it.
    """

    # The claim's name, in the pod's namespace; it names the Docker volume.
    claimName: str
    # Mount the volume read-only.
    readOnly: bool


class DownwardAPIVolumeFile(TypedDict, total=False):
    """One file of the pod's own fields (the downward API in a volume)."""

    # The file's path, relative to the volume's root (no `..`).
    path: str
    # The pod field written: metadata.name, metadata.namespace, metadata.uid, metadata.labels,
    # metadata.annotations, or one label or annotation (`metadata.labels['app']`).
    fieldRef: ObjectFieldSelector
    # Refused by validation: Schooner's agent writes no resource values to files.
    resourceFieldRef: ResourceFieldSelector
    # The file's permission bits; defaults to the volume's defaultMode.
    mode: int


class DownwardAPIVolumeSource(TypedDict, total=False):
    """The pod's own fields as files, written by the agent and mounted read-only."""

    # The files to write.
    items: list[DownwardAPIVolumeFile]
    # Permission bits of the files (0-0777); defaults to 0644.
    defaultMode: int


class SecretProjection(TypedDict, total=False):
    """A Secret's keys (decoded) as one source of a projected volume."""

    # Name of the object, in the pod's namespace (required).
    name: str
    # Only these keys, at these paths; by default every key becomes a file named after it.
    items: list[KeyToPath]
    # When true, a missing object or key is skipped instead of keeping the pod from starting.
    optional: bool


class DownwardAPIProjection(TypedDict, total=False):
    """The downward API as one source of a projected volume."""

    # The files to write.
    items: list[DownwardAPIVolumeFile]


class ConfigMapProjection(TypedDict, total=False):
    """A ConfigMap's keys as one source of a projected volume."""

    # Name of the object, in the pod's namespace (required).
    name: str
    # Only these keys, at these paths; by default every key becomes a file named after it.
    items: list[KeyToPath]
    # When true, a missing object or key is skipped instead of keeping the pod from starting.
    optional: bool


class ServiceAccountTokenProjection(TypedDict, total=False):
    """A token of the pod's ServiceAccount, bound to the pod; the agent asks for it with a
    TokenRequest and writes a new one before it expires (at 80% of its life).
    """

    # The audience the token is for; defaults to the apiserver's own.
    audience: str
    # The token's requested lifetime: at least 600 (10 minutes); defaults to 3600.
    expirationSeconds: int
    # The file's path, relative to the volume's root.
    path: str


class VolumeProjection(TypedDict, total=False):
    """One source of a projected volume: exactly one of its fields."""

    # A Secret's keys.
    secret: SecretProjection
    # The pod's own fields.
    downwardAPI: DownwardAPIProjection
    # A ConfigMap's keys.
    configMap: ConfigMapProjection
    # A pod-bound token of the pod's ServiceAccount.
    serviceAccountToken: ServiceAccountTokenProjection


class ProjectedVolumeSource(TypedDict, total=False):
    """Several sources in one folder, written atomically by the agent on the node's tmpfs (Secrets
    and tokens never touch its disk) and mounted read-only.
    """

    # The sources, in order; their files may not share a path.
    sources: list[VolumeProjection]
    # Permission bits of the files (0-0777); defaults to 0644.
    defaultMode: int


class Volume(TypedDict, total=False):
    """A pod volume: one of the sources below. Other sources (nfs, csi, ...) are unknown fields
    here: never stored (fieldValidation drops or refuses them), so a volume of only such a source
    is refused as having no volume type.
    """

    # A DNS label, unique in the pod; containers' volumeMounts refer to it.
    name: str
    # An empty scratch volume, removed with the pod.
    emptyDir: EmptyDirVolumeSource
    # A ConfigMap's keys as files.
    configMap: ConfigMapVolumeSource
    # A Secret's keys as files.
    secret: SecretVolumeSource
    # A path on the node.
    hostPath: HostPathVolumeSource
    # A claim's node-local volume, kept after the pod is gone.
    persistentVolumeClaim: PersistentVolumeClaimVolumeSource
    # The pod's own fields as files.
    downwardAPI: DownwardAPIVolumeSource
    # ConfigMaps, Secrets, the pod's fields and a service-account token in one folder (the
    # ServiceAccount admission adds one, kube-api-access-*).
    projected: ProjectedVolumeSource


class PodDNSConfigOption(TypedDict, total=False):
    """One resolver option of the pod's resolv.conf (`ndots:2`, `edns0`)."""

    # The option's name; it replaces a cluster option of the same name.
    name: str
    # The option's value, written as `name:value`.
    value: str


class PodDNSConfig(TypedDict, total=False):
    """What the agent adds to the resolv.conf it writes for the pod."""

    # Name servers after the cluster's; the agent writes the first three of all.
    nameservers: list[str]
    # Search domains after the cluster's; the agent keeps the first 32 (2048 characters).
    searches: list[str]
    # Resolver options, merged with the cluster's by name.
    options: list[PodDNSConfigOption]


class Sysctl(TypedDict, total=False):
    """One namespaced kernel parameter to set for the pod."""

    # The parameter, e.g. net.ipv4.ip_local_port_range. Refused by Schooner's apiserver (the
    # agent cannot apply it).
    name: str
    # The value to set. Refused by Schooner's apiserver (the agent cannot apply it).
    value: str


class PodSecurityContext(TypedDict, total=False):
    """Users, groups and kernel settings for every container of the pod."""

    # The SELinux label of the pod's containers. Refused by Schooner's apiserver (the agent
    # cannot apply it).
    seLinuxOptions: SELinuxOptions
    # Windows settings of the pod's containers. Refused by Schooner's apiserver (the agent
    # cannot apply it).
    windowsOptions: WindowsSecurityContextOptions
    # The user ID the containers' processes run as. Applied by Schooner's agent.
    runAsUser: int
    # The primary group ID of the containers' processes. Applied by Schooner's agent.
    runAsGroup: int
    # When true, containers must not run as root. Applied by Schooner's agent.
    runAsNonRoot: bool
    # Further group IDs of the containers' first processes. Applied by Schooner's agent.
    supplementalGroups: list[int]
    # Merge or Strict: whether the image's groups are added to those. Merge is applied; Strict
    # is refused. Applied by Schooner's agent.
    supplementalGroupsPolicy: str
    # A group that owns the pod's volumes and is added to every container. Refused by
    # Schooner's apiserver (the agent cannot apply it).
    fsGroup: int
    # Namespaced kernel parameters for the pod. Refused by Schooner's apiserver (the agent
    # cannot apply it).
    sysctls: list[Sysctl]
    # OnRootMismatch or Always: when volumes' ownership is changed. Refused by Schooner's
    # apiserver (the agent cannot apply it).
    fsGroupChangePolicy: str
    # The seccomp profile of the pod's containers. Applied by Schooner's agent.
    seccompProfile: SeccompProfile
    # The AppArmor profile of the pod's containers (type RuntimeDefault only). Applied by
    # Schooner's agent.
    appArmorProfile: AppArmorProfile
    # MountOption or Recursive: how the SELinux label reaches volumes. Refused by Schooner's
    # apiserver (the agent cannot apply it).
    seLinuxChangePolicy: str


class LocalObjectReference(TypedDict, total=False):
    """A name in the same namespace, as in `imagePullSecrets`."""

    # Name of the referenced object, in the referrer's namespace.
    name: str


class NodeSelectorRequirement(TypedDict, total=False):
    """One test of a node's labels (or, in matchFields, of its name)."""

    # The label key, or `metadata.name` in matchFields.
    key: str
    # In, NotIn, Exists, DoesNotExist, Gt or Lt (matchFields: In or NotIn).
    operator: str
    # The values to compare with; one integer for Gt and Lt, none for Exists and DoesNotExist.
    values: list[str]


class NodeSelectorTerm(TypedDict, total=False):
    """Requirements that must all hold for a node to match the term."""

    # Requirements on the node's labels.
    matchExpressions: list[NodeSelectorRequirement]
    # Requirements on the node's fields; only `metadata.name` is supported.
    matchFields: list[NodeSelectorRequirement]


class NodeSelector(TypedDict, total=False):
    """Terms of which a node must match at least one."""

    # The terms, ORed; at least one is required.
    nodeSelectorTerms: list[NodeSelectorTerm]


class PreferredSchedulingTerm(TypedDict, total=False):
    """A term that makes matching nodes score higher."""

    # Added to a matching node's affinity score (1-100).
    weight: int
    # The term to match.
    preference: NodeSelectorTerm


class NodeAffinity(TypedDict, total=False):
    """Which nodes the pod must or would rather run on, by their labels."""

    # The scheduler only places the pod on nodes matching these terms; a running pod stays
    # even if its node stops matching.
    requiredDuringSchedulingIgnoredDuringExecution: NodeSelector
    # Terms that raise a node's score by their weights when it matches.
    preferredDuringSchedulingIgnoredDuringExecution: list[PreferredSchedulingTerm]


class LabelSelectorRequirement(TypedDict, total=False):
    """One `matchExpressions` entry: `key`, `operator` (In, NotIn, Exists, DoesNotExist)."""

    # The label key the requirement tests.
    key: str
    # How the label is tested: In, NotIn, Exists or DoesNotExist.
    operator: str
    # The values In and NotIn compare with (at least one); must be empty for Exists and
    # DoesNotExist.
    values: list[str]


class LabelSelector(TypedDict, total=False):
    """metav1.LabelSelector: matchLabels AND every matchExpressions entry."""

    # Labels an object must carry with exactly these values.
    matchLabels: dict[str, str]
    # Further requirements, all of which must hold as well as matchLabels.
    matchExpressions: list[LabelSelectorRequirement]


class PodAffinityTerm(TypedDict, total=False):
    """Pods (by labels, in some namespaces) whose topology domain the pod is placed by."""

    # The pods the term is about. Refused by Schooner's apiserver: its scheduler does not
    # apply it.
    labelSelector: LabelSelector
    # Namespaces to look for those pods in; empty means the pod's own. Refused by Schooner's
    # apiserver: its scheduler does not apply it.
    namespaces: list[str]
    # The node label whose value defines a domain, e.g. kubernetes.io/hostname. Refused by
    # Schooner's apiserver: its scheduler does not apply it.
    topologyKey: str
    # Namespaces, by their labels, to look for those pods in. Refused by Schooner's apiserver:
    # its scheduler does not apply it.
    namespaceSelector: LabelSelector
    # Label keys whose values, taken from the incoming pod, are added to labelSelector as In
    # requirements. Refused by Schooner's apiserver: its scheduler does not apply it.
    matchLabelKeys: list[str]
    # Label keys whose values, taken from the incoming pod, are added to labelSelector as
    # NotIn requirements. Refused by Schooner's apiserver: its scheduler does not apply it.
    mismatchLabelKeys: list[str]


class WeightedPodAffinityTerm(TypedDict, total=False):
    """A pod affinity term that raises (or, for anti-affinity, lowers) a node's score."""

    # Added to a matching node's score (1-100). Refused by Schooner's apiserver: its scheduler
    # does not apply it.
    weight: int
    # The term to match. Refused by Schooner's apiserver: its scheduler does not apply it.
    podAffinityTerm: PodAffinityTerm


class PodAffinity(TypedDict, total=False):
    """Rules to place the pod in the same domain as other pods."""

    # Terms every node must meet, each for its own domain. Refused by Schooner's apiserver:
    # its scheduler does not apply it.
    requiredDuringSchedulingIgnoredDuringExecution: list[PodAffinityTerm]
    # Terms that raise a node's score by their weights. Refused by Schooner's apiserver: its
    # scheduler does not apply it.
    preferredDuringSchedulingIgnoredDuringExecution: list[WeightedPodAffinityTerm]


class PodAntiAffinity(TypedDict, total=False):
    """Rules to keep the pod out of the domains of other pods."""

    # Terms no node may meet, each for its own domain. Refused by Schooner's apiserver: its
    # scheduler does not apply it.
    requiredDuringSchedulingIgnoredDuringExecution: list[PodAffinityTerm]
    # Terms that lower a node's score by their weights. Refused by Schooner's apiserver: its
    # scheduler does not apply it.
    preferredDuringSchedulingIgnoredDuringExecution: list[WeightedPodAffinityTerm]


class Affinity(TypedDict, total=False):
    """Node affinity, which the scheduler applies, and pod (anti-)affinity, stored only."""

    # Rules on the labels of the node, applied by the scheduler.
    nodeAffinity: NodeAffinity
    # Rules to co-locate with other pods. Refused by Schooner's apiserver: its scheduler does
    # not apply them.
    podAffinity: PodAffinity
    # Rules to keep away from other pods. Refused by Schooner's apiserver: its scheduler does
    # not apply them (it spreads a controller's pods by itself).
    podAntiAffinity: PodAntiAffinity


class Toleration(TypedDict, total=False):
    """Lets the pod onto (or stay on) nodes with a matching taint."""

    # The taint key it tolerates; empty with operator Exists tolerates every taint.
    key: str
    # Equal (the default: the taint's value must equal `value`) or Exists (any value).
    operator: str
    # The taint value for Equal; must be empty for Exists.
    value: str
    # The taint effect it tolerates (NoSchedule, PreferNoSchedule, NoExecute); empty means
    # all.
    effect: str
    # For NoExecute only: how long the pod may stay once the taint appears before the node
    # lifecycle controller evicts it; unset means forever.
    tolerationSeconds: int


class PodSchedulingGate(TypedDict, total=False):
    """A gate that keeps the pod from being scheduled while it is listed."""

    # The gate's name; whoever added the gate removes it.
    name: str


class TopologySpreadConstraint(TypedDict, total=False):
    """How evenly matching pods must spread over the domains of a node label."""

    # The largest allowed difference in matching pods between two domains. Refused by
    # Schooner's apiserver: its scheduler does not apply it.
    maxSkew: int
    # The node label whose value defines a domain. Refused by Schooner's apiserver: its
    # scheduler does not apply it.
    topologyKey: str
    # DoNotSchedule or ScheduleAnyway: what to do when no node keeps the skew. Refused by
    # Schooner's apiserver: its scheduler does not apply it.
    whenUnsatisfiable: str
    # The pods that are counted. Refused by Schooner's apiserver: its scheduler does not apply
    # it.
    labelSelector: LabelSelector
    # The fewest eligible domains, for DoNotSchedule. Refused by Schooner's apiserver: its
    # scheduler does not apply it.
    minDomains: int
    # Honor or Ignore: whether the pod's node affinity limits the domains counted. Refused by
    # Schooner's apiserver: its scheduler does not apply it.
    nodeAffinityPolicy: str
    # Honor or Ignore: whether tainted nodes' domains are counted. Refused by Schooner's
    # apiserver: its scheduler does not apply it.
    nodeTaintsPolicy: str
    # Label keys whose values, taken from the incoming pod, narrow labelSelector. Refused by
    # Schooner's apiserver: its scheduler does not apply it.
    matchLabelKeys: list[str]


class PodSpec(TypedDict, total=False):
    """What a pod runs and where: containers, volumes, scheduling constraints."""

    # The pod's containers, at least one; the agent runs them together in one network
    # namespace. Only their images may change after creation.
    containers: list[Container]
    # Containers run one after another, each to completion (exit 0), before any app container
    # starts; a failed one is restarted with the crash-loop back-off, or fails the pod under
    # restartPolicy Never. Sidecars (restartPolicy Always), probes and lifecycle hooks are
    # refused.
    initContainers: list[Container]
    # Volumes the containers may mount, each with exactly one source.
    volumes: list[Volume]
    # Always (the default), OnFailure or Never: whether the agent starts a container again
    # after it exits. Pod templates of workloads allow only Always.
    restartPolicy: str
    # Seconds a deleted pod's containers get between SIGTERM (and preStop) and SIGKILL;
    # defaults to 30, and the agent allows at least 2.
    terminationGracePeriodSeconds: int
    # Seconds the pod may be active on its node, from its startTime; past it the agent fails
    # the pod (reason DeadlineExceeded) and stops its containers. May only shrink; refused in
    # workload templates.
    activeDeadlineSeconds: int
    # ClusterFirst (the default) or ClusterFirstWithHostNet use the cluster DNS when the agent
    # has one; Default keeps Docker's; None uses only the pod's dnsConfig.
    dnsPolicy: str
    # Name servers, search domains and options for the pod's resolv.conf, added to the
    # cluster's (with dnsPolicy None, the only ones).
    dnsConfig: PodDNSConfig
    # Labels a node must have, all of them, for the scheduler to place the pod there.
    nodeSelector: dict[str, str]
    # A service account name, readable through the downward API. Schooner has no
    # ServiceAccount kind and mounts no token.
    serviceAccountName: str
    # Stored; Schooner mounts no service account tokens either way.
    automountServiceAccountToken: bool
    # The node the pod runs on, set when the scheduler binds it (or given at creation to skip
    # the scheduler); a plain update cannot change it.
    nodeName: str
    # Run the pod in the node's network namespace (its IP is the node's); the Pod Security
    # level must allow it.
    hostNetwork: bool
    # Share the node's process namespace (`--pid host`); the Pod Security level must allow it.
    hostPID: bool
    # Share the node's IPC namespace (`--ipc host`); the Pod Security level must allow it.
    hostIPC: bool
    # Pod-wide users, groups and profiles, applied by the agent; what it cannot apply is
    # refused (docs/security.md).
    securityContext: PodSecurityContext
    # Secrets (kubernetes.io/dockerconfigjson or dockercfg) whose credentials for the image's
    # registry the agent pulls with; a missing one is a warning event.
    imagePullSecrets: list[LocalObjectReference]
    # The containers' hostname (a DNS label); defaults to the pod's name. With a subdomain it
    # also names the pod in DNS.
    hostname: str
    # A headless Service of this name makes the pod resolvable as
    # `<hostname>.<subdomain>.<namespace>.svc`, as StatefulSet pods are.
    subdomain: str
    # Scheduling rules; the scheduler applies node affinity (inter-pod affinity is refused).
    affinity: Affinity
    # The scheduler that places the pod; defaults to default-scheduler, the name Schooner's
    # scheduler answers to unless told otherwise.
    schedulerName: str
    # Taints the pod tolerates. On a running pod, tolerations may be added but not changed.
    tolerations: list[Toleration]
    # The PriorityClass whose value becomes spec.priority when the pod is created; a name no
    # class has is refused. Empty: the global default class, if any.
    priorityClassName: str
    # Set by the apiserver from the PriorityClass when the pod is created (a different value
    # sent is refused). The scheduler takes higher priorities first; it never preempts.
    priority: int
    # Resources the pod's sandbox takes beyond its containers. The scheduler adds them to the
    # pod's requests when it fits the pod on a node; Schooner has no RuntimeClass to fill them
    # in, so they are as the client sent them.
    overhead: ResourceList
    # Named gates (`{name: ...}`) that keep the pod from being scheduled while any remains;
    # whoever added a gate removes it.
    schedulingGates: list[PodSchedulingGate]
    # Stored; the agent injects no Service environment variables either way.
    enableServiceLinks: bool
    # Rules to spread pods over topology domains. Refused by Schooner's apiserver: the
    # scheduler does not apply them (it spreads a controller's pods by itself).
    topologySpreadConstraints: list[TopologySpreadConstraint]


class PodCondition(TypedDict, total=False):
    """One aspect of the pod's state: PodScheduled, Initialized, ContainersReady, Ready."""

    # The aspect: PodScheduled (False from the scheduler while no node fits, True once bound),
    # Initialized, ContainersReady or Ready (from the agent).
    type: str
    # True, False or Unknown.
    status: str
    # When the condition was last checked.
    lastProbeTime: str
    # When status last changed.
    lastTransitionTime: str
    # A CamelCase reason for the status, e.g. Unschedulable or ContainersNotReady.
    reason: str
    # Details for people, e.g. why no node fits.
    message: str


class HostIP(TypedDict, total=False):
    """One of the node's IP addresses, as seen from the pod."""

    # The address.
    ip: str


class PodIP(TypedDict, total=False):
    """One of the pod's IP addresses."""

    # The address.
    ip: str


class ContainerStateWaiting(TypedDict, total=False):
    """The container is not running yet (or again), and why."""

    # A CamelCase reason: ContainerCreating, ErrImagePull, ImagePullBackOff, CrashLoopBackOff,
    # CreateContainerConfigError...
    reason: str
    # Details of the reason.
    message: str


class ContainerStateRunning(TypedDict, total=False):
    """The container is running."""

    # When the container (this instance of it) started.
    startedAt: str


class ContainerStateTerminated(TypedDict, total=False):
    """The container ran and exited."""

    # The process's exit code.
    exitCode: int
    # The signal that ended it, when one did.
    signal: int
    # Completed, Error, OOMKilled...
    reason: str
    # Details of the reason.
    message: str
    # When it started.
    startedAt: str
    # When it exited.
    finishedAt: str
    # The runtime's ID of the container that exited, `docker://<id>`.
    containerID: str


class ContainerState(TypedDict, total=False):
    """Exactly one of waiting, running, terminated."""

    # Set while the container is not running.
    waiting: ContainerStateWaiting
    # Set while it runs.
    running: ContainerStateRunning
    # Set once it has exited.
    terminated: ContainerStateTerminated


class ContainerStatus(TypedDict, total=False):
    """What the agent last saw of one container; written by the agent only."""

    # The container's name in the pod spec.
    name: str
    # Whether its readiness probe passes (true once running when it has none).
    ready: bool
    # How often the agent has restarted it.
    restartCount: int
    # The image it runs.
    image: str
    # The ID of the image it runs, as Docker reports it.
    imageID: str
    # The runtime's ID of its current instance, `docker://<id>`.
    containerID: str
    # Its current state.
    state: ContainerState
    # How its previous instance ended, after a restart.
    lastState: ContainerState
    # Whether its startup probe has passed (true once running when it has none).
    started: bool


class PodStatus(TypedDict, total=False):
    """What the pod is doing, written by the scheduler and the agent."""

    # Pending, Running, Succeeded, Failed or Unknown: the pod's place in its life, set by the
    # agent (Pending at creation).
    phase: str
    # The pod's conditions, one per type.
    conditions: list[PodCondition]
    # Why the pod is in its phase, for people.
    message: str
    # Why the pod is in its phase, CamelCase.
    reason: str
    # The IP address of the node the pod runs on.
    hostIP: str
    # The node's IP addresses; the first equals hostIP.
    hostIPs: list[HostIP]
    # The pod's IP address on the pod network, once its sandbox runs.
    podIP: str
    # The pod's IP addresses; the first equals podIP. Endpoints are made from these.
    podIPs: list[PodIP]
    # When the agent first reported the pod's status, before its images were pulled.
    startTime: str
    # One status per container, as the agent last saw it.
    containerStatuses: list[ContainerStatus]
    # One status per init container; the agent writes none, as it runs none.
    initContainerStatuses: list[ContainerStatus]
    # Guaranteed, Burstable or BestEffort, from the containers' requests and limits; set by
    # the apiserver at creation.
    qosClass: str
    # Stored; Schooner's scheduler does not preempt, so it nominates no node.
    nominatedNodeName: str


class Pod(TypedDict, total=False):
    """Containers that run together on one node, sharing one IP."""

    # The API group and version the object is written in (`v1`, `apps/v1`); the apiserver
    # fills it in on every object it returns.
    apiVersion: str
    # The object's kind (`Pod`, `Deployment`), which picks its schema; the apiserver fills it
    # in on every object it returns.
    kind: str
    # The object's metadata: name, namespace, labels, owners and the fields the apiserver
    # sets.
    metadata: ObjectMeta
    # What to run, and constraints on where.
    spec: PodSpec
    # What the pod is doing, written by the scheduler and the agent.
    status: PodStatus


class ServicePort(TypedDict, total=False):
    """One port a Service serves, and where it sends the traffic."""

    # A DNS label, unique in the Service; required when it has several ports, and matched to
    # the Endpoints' port names.
    name: str
    # TCP (the default), UDP or SCTP; the proxy forwards TCP only.
    protocol: str
    # The port on the Service's cluster IP.
    port: int
    # The pods' port, by number or by container port name; defaults to `port`.
    targetPort: IntOrString
    # For NodePort and LoadBalancer Services, the port on every node, allocated from the node
    # port range unless given; refused on ClusterIP Services.
    nodePort: int
    # A hint of the application protocol, copied to the Endpoints' port.
    appProtocol: str


class ClientIPConfig(TypedDict, total=False):
    """How long ClientIP affinity lasts."""

    # How long an idle client keeps its endpoint, in seconds; defaults to 10800, three hours.
    # The proxy applies it.
    timeoutSeconds: int


class SessionAffinityConfig(TypedDict, total=False):
    """The settings of a Service's session affinity."""

    # The settings of ClientIP affinity.
    clientIP: ClientIPConfig


class ServiceSpec(TypedDict, total=False):
    """How a Service is reached and which pods it sends traffic to."""

    # ClusterIP (the default) and NodePort are proxied on every node; ExternalName is a DNS
    # alias only; LoadBalancer is allocated node ports but neither proxied nor given a load
    # balancer.
    type: str
    # The labels of the pods the endpoints controller lists as this Service's endpoints;
    # without one, Endpoints are managed by hand.
    selector: dict[str, str]
    # The ports served; at least one unless headless or ExternalName.
    ports: list[ServicePort]
    # The virtual IP, allocated from the service cluster IP range unless given, or `None` for
    # a headless Service; it cannot change.
    clusterIP: str
    # The virtual IPs; kept equal to [clusterIP].
    clusterIPs: list[str]
    # Stored; the proxy does not serve Services on external IPs.
    externalIPs: list[str]
    # For ExternalName Services, the DNS name the cluster DNS answers with a CNAME.
    externalName: str
    # None (the default) or ClientIP, which makes the proxy send a client to the same endpoint
    # while it keeps connecting.
    sessionAffinity: str
    # The settings of ClientIP affinity.
    sessionAffinityConfig: SessionAffinityConfig
    # Stored; Schooner provisions no load balancers.
    loadBalancerIP: str
    # Cluster or Local, for NodePort and LoadBalancer Services only. Validated and stored; the
    # proxy always uses every endpoint.
    externalTrafficPolicy: str
    # Stored; the proxy always uses every endpoint.
    internalTrafficPolicy: str
    # IPv4 or IPv6; stored, as Schooner's service range decides the family.
    ipFamilies: list[str]
    # SingleStack, PreferDualStack or RequireDualStack; stored, Schooner allocates a single
    # IP.
    ipFamilyPolicy: str
    # When true, pods are listed as ready endpoints whether they are ready or not.
    publishNotReadyAddresses: bool


class PortStatus(TypedDict, total=False):
    """The state of one port of a load balancer."""

    # The port number.
    port: int
    # TCP, UDP or SCTP.
    protocol: str
    # Why the port is not served, as a CamelCase reason.
    error: str


class LoadBalancerIngress(TypedDict, total=False):
    """An address a load balancer takes traffic on."""

    # The address, when it is an IP.
    ip: str
    # The address, when it is a DNS name.
    hostname: str
    # VIP or Proxy: how traffic reaches the endpoints.
    ipMode: str
    # The state of the load balancer's ports.
    ports: list[PortStatus]


class LoadBalancerStatus(TypedDict, total=False):
    """The addresses of a Service's load balancer."""

    # The addresses traffic for the Service arrives on.
    ingress: list[LoadBalancerIngress]


class Condition(TypedDict, total=False):
    """metav1.Condition: one aspect of an object's state, the shape newer kinds share."""

    # The aspect, in CamelCase (or `foo.example.com/CamelCase`).
    type: str
    # True, False or Unknown.
    status: str
    # The metadata.generation the condition was set for.
    observedGeneration: int
    # When status last changed.
    lastTransitionTime: str
    # A CamelCase reason for the last transition.
    reason: str
    # Details of the transition, for people.
    message: str


class ServiceStatus(TypedDict, total=False):
    """A Service's load balancer and conditions; Schooner writes neither."""

    # The load balancer's ingress addresses. Stored; Schooner provisions none.
    loadBalancer: LoadBalancerStatus
    # The Service's conditions. Stored; Schooner writes none.
    conditions: list[Condition]


class Service(TypedDict, total=False):
    """A stable virtual IP and DNS name in front of a changing set of pods."""

    # The API group and version the object is written in (`v1`, `apps/v1`); the apiserver
    # fills it in on every object it returns.
    apiVersion: str
    # The object's kind (`Pod`, `Deployment`), which picks its schema; the apiserver fills it
    # in on every object it returns.
    kind: str
    # The object's metadata: name, namespace, labels, owners and the fields the apiserver
    # sets.
    metadata: ObjectMeta
    # Ports, selector and type of the Service.
    spec: ServiceSpec
    # Load balancer status; unused in Schooner.
    status: ServiceStatus


class ObjectReference(TypedDict, total=False):
    """A reference to another object, as in `Event.involvedObject` or an endpoint's target."""

    # API group and version of the referent.
    apiVersion: str
    # Kind of the referent.
    kind: str
    # Namespace of the referent; empty for cluster-scoped objects.
    namespace: str
    # Name of the referent.
    name: str
    # UID of the referent.
    uid: str
    # The referent's resourceVersion when the reference was made, if it matters.
    resourceVersion: str
    # A part of the referent the reference is about, e.g. `spec.containers{web}` for an event
    # about one container.
    fieldPath: str


class EndpointAddress(TypedDict, total=False):
    """One pod (or other target) behind a Service."""

    # The target's IP address.
    ip: str
    # The pod's hostname, when the pod's subdomain names this Service; the cluster DNS then
    # answers `<hostname>.<service>`.
    hostname: str
    # The node the target runs on.
    nodeName: str
    # The pod this address belongs to.
    targetRef: ObjectReference


class EndpointPort(TypedDict, total=False):
    """One port of the endpoints, named after the Service port it serves."""

    # The Service port's name; required when there are several ports.
    name: str
    # The port on the targets.
    port: int
    # TCP (the default), UDP or SCTP.
    protocol: str
    # The Service port's appProtocol.
    appProtocol: str


class EndpointSubset(TypedDict, total=False):
    """Ready `addresses` and `notReadyAddresses`, each served on every one of `ports`."""

    # Targets that are ready; the proxy and the cluster DNS use only these.
    addresses: list[EndpointAddress]
    # Targets that are not ready yet.
    notReadyAddresses: list[EndpointAddress]
    # The ports every address serves.
    ports: list[EndpointPort]


class Endpoints(TypedDict, total=False):
    """The addresses behind the Service of the same name; the endpoints controller keeps those of
    Services with a selector up to date.
    """

    # The API group and version the object is written in (`v1`, `apps/v1`); the apiserver
    # fills it in on every object it returns.
    apiVersion: str
    # The object's kind (`Pod`, `Deployment`), which picks its schema; the apiserver fills it
    # in on every object it returns.
    kind: str
    # The object's metadata: name, namespace, labels, owners and the fields the apiserver
    # sets.
    metadata: ObjectMeta
    # Groups of addresses that share the same ports.
    subsets: list[EndpointSubset]


class ConfigMap(TypedDict, total=False):
    """Configuration as keys and values, for environment variables and volume files."""

    # The API group and version the object is written in (`v1`, `apps/v1`); the apiserver
    # fills it in on every object it returns.
    apiVersion: str
    # The object's kind (`Pod`, `Deployment`), which picks its schema; the apiserver fills it
    # in on every object it returns.
    kind: str
    # The object's metadata: name, namespace, labels, owners and the fields the apiserver
    # sets.
    metadata: ObjectMeta
    # UTF-8 values by key; keys are file-name-like, and data plus binaryData may hold at most
    # 1 MiB.
    data: dict[str, str]
    # Binary values, base64-encoded on the wire; a key may not also be in data.
    binaryData: dict[str, str]
    # When true, data and binaryData can no longer change, nor can this flag be unset.
    immutable: bool


class Secret(TypedDict, total=False):
    """`data` values are base64 strings on the wire; `stringData` is write-only plain text."""

    # The API group and version the object is written in (`v1`, `apps/v1`); the apiserver
    # fills it in on every object it returns.
    apiVersion: str
    # The object's kind (`Pod`, `Deployment`), which picks its schema; the apiserver fills it
    # in on every object it returns.
    kind: str
    # The object's metadata: name, namespace, labels, owners and the fields the apiserver
    # sets.
    metadata: ObjectMeta
    # Values by key, base64-encoded on the wire; at most 1 MiB in total. Stored as given in
    # etcd, not encrypted.
    data: dict[str, str]
    # Plain-text values to write: the apiserver encodes them into data (winning over a data
    # key of the same name) and never stores this field.
    stringData: dict[str, str]
    # What the Secret holds (Opaque by default, kubernetes.io/tls,
    # kubernetes.io/dockerconfigjson...); each type requires its keys. It cannot change.
    type: str
    # When true, data can no longer change, nor can this flag be unset.
    immutable: bool


class EventSource(TypedDict, total=False):
    """Who reported an event."""

    # The reporting component, e.g. `kubelet` for the agent or `default-scheduler`.
    component: str
    # The node the reporter runs on, for the agent's events.
    host: str


class EventSeries(TypedDict, total=False):
    """How often an event repeated, as newer recorders report it."""

    # How often the event has been seen so far.
    count: int
    # When it was last seen, at microsecond precision.
    lastObservedTime: str


class Event(TypedDict, total=False):
    """A core/v1 Event, what `kubectl describe` lists under `Events:`."""

    # The API group and version the object is written in (`v1`, `apps/v1`); the apiserver
    # fills it in on every object it returns.
    apiVersion: str
    # The object's kind (`Pod`, `Deployment`), which picks its schema; the apiserver fills it
    # in on every object it returns.
    kind: str
    # The object's metadata: name, namespace, labels, owners and the fields the apiserver
    # sets.
    metadata: ObjectMeta
    # The object the event is about; its namespace must be the event's.
    involvedObject: ObjectReference
    # A short CamelCase reason, e.g. Scheduled, Pulled, BackOff.
    reason: str
    # What happened, for people.
    message: str
    # The component that reported it.
    source: EventSource
    # When this event was first seen; filled in by the apiserver when missing.
    firstTimestamp: str
    # When it was seen most recently; recorders update it as the event repeats.
    lastTimestamp: str
    # How often it was seen; defaults to 1.
    count: int
    # Normal or Warning.
    type: str
    # The time of the event at microsecond precision, as newer recorders write it.
    eventTime: str
    # Repetition data newer recorders send; stored.
    series: EventSeries
    # What was done or failed, for newer recorders.
    action: str
    # A second object involved, for newer recorders.
    related: ObjectReference
    # The controller that emitted the event, for newer recorders.
    reportingComponent: str
    # The instance of that controller.
    reportingInstance: str


class PodTemplateSpec(TypedDict, total=False):
    """The pod a Deployment, ReplicaSet or StatefulSet stamps out."""

    # Labels and annotations of the pods made from the template; its labels must match the
    # workload's selector.
    metadata: ObjectMeta
    # The spec of the pods made from the template.
    spec: PodSpec


class RollingUpdateDeployment(TypedDict, total=False):
    """How fast a rolling update replaces pods."""

    # How many desired pods may be unavailable during the update, as a number or a percentage
    # (rounded down); defaults to 25%.
    maxUnavailable: IntOrString
    # How many pods may exist above the desired count during the update, as a number or a
    # percentage (rounded up); defaults to 25%. Not both may be 0.
    maxSurge: IntOrString


class DeploymentStrategy(TypedDict, total=False):
    """How a Deployment replaces old pods with new ones."""

    # RollingUpdate (the default: scale the new ReplicaSet up as the old ones go down) or
    # Recreate (remove every old pod first).
    type: str
    # The pace of a RollingUpdate; refused with Recreate.
    rollingUpdate: RollingUpdateDeployment


class DeploymentSpec(TypedDict, total=False):
    """The desired pods of a Deployment, and how to roll out a change to them."""

    # How many pods to run; defaults to 1.
    replicas: int
    # Which pods belong to the workload; it must match the template's labels and cannot change
    # after creation.
    selector: LabelSelector
    # The pods to run; changing it starts a rollout to a new ReplicaSet.
    template: PodTemplateSpec
    # How a rollout replaces pods; defaults to RollingUpdate 25%/25%.
    strategy: DeploymentStrategy
    # Seconds a new pod must stay ready before it counts as available; defaults to 0.
    minReadySeconds: int
    # How many old ReplicaSets to keep for `kubectl rollout undo`; defaults to 10.
    revisionHistoryLimit: int
    # While true, template changes start no rollout (`kubectl rollout pause`).
    paused: bool
    # Seconds a rollout may make no progress before Progressing turns False with
    # ProgressDeadlineExceeded; defaults to 600, and must exceed minReadySeconds.
    progressDeadlineSeconds: int


class DeploymentCondition(TypedDict, total=False):
    """A Deployment condition: Available, Progressing or ReplicaFailure."""

    # Available (enough pods available), Progressing (the rollout moves, or stalled past its
    # deadline) or ReplicaFailure.
    type: str
    # True, False or Unknown.
    status: str
    # When the condition was last written; a stalled rollout is measured from here.
    lastUpdateTime: str
    # When status last changed.
    lastTransitionTime: str
    # A CamelCase reason, e.g. NewReplicaSetAvailable or ProgressDeadlineExceeded.
    reason: str
    # Details for people.
    message: str


class DeploymentStatus(TypedDict, total=False):
    """How far the Deployment's rollout is, written by the deployment controller."""

    # The metadata.generation the controller last acted on; status is current when it equals
    # the generation.
    observedGeneration: int
    # Pods of all its ReplicaSets.
    replicas: int
    # Pods of the current template.
    updatedReplicas: int
    # Pods that are ready.
    readyReplicas: int
    # Pods ready for at least minReadySeconds.
    availableReplicas: int
    # Desired pods not yet available.
    unavailableReplicas: int
    # Available, Progressing and ReplicaFailure.
    conditions: list[DeploymentCondition]
    # Bumped when a new ReplicaSet's hashed name is taken, to make another name.
    collisionCount: int


class Deployment(TypedDict, total=False):
    """Runs a number of identical pods through ReplicaSets, and rolls out changes."""

    # The API group and version the object is written in (`v1`, `apps/v1`); the apiserver
    # fills it in on every object it returns.
    apiVersion: str
    # The object's kind (`Pod`, `Deployment`), which picks its schema; the apiserver fills it
    # in on every object it returns.
    kind: str
    # The object's metadata: name, namespace, labels, owners and the fields the apiserver
    # sets.
    metadata: ObjectMeta
    # The desired pods and the rollout strategy.
    spec: DeploymentSpec
    # The rollout's progress.
    status: DeploymentStatus


class ReplicaSetSpec(TypedDict, total=False):
    """The desired pods of a ReplicaSet."""

    # How many pods to run; defaults to 1.
    replicas: int
    # Seconds a new pod must stay ready before it counts as available; defaults to 0.
    minReadySeconds: int
    # Which pods belong to the workload; it must match the template's labels and cannot change
    # after creation.
    selector: LabelSelector
    # The pods to create; pods already running are not changed when it changes.
    template: PodTemplateSpec


class ReplicaSetCondition(TypedDict, total=False):
    """A ReplicaSet condition (ReplicaFailure)."""

    # The aspect the condition is about.
    type: str
    # True, False or Unknown.
    status: str
    # Not a field of Kubernetes' ReplicaSetCondition; checked as a timestamp when present (as
    # Schooner always has) and stored, never written by Schooner.
    lastUpdateTime: str
    # When status last changed.
    lastTransitionTime: str
    # A CamelCase reason for the status.
    reason: str
    # Details for people.
    message: str


class ReplicaSetStatus(TypedDict, total=False):
    """What the replicaset controller last counted."""

    # Pods the ReplicaSet owns that are not being deleted.
    replicas: int
    # Pods whose labels match the template's.
    fullyLabeledReplicas: int
    # Pods that are ready.
    readyReplicas: int
    # Pods ready for at least minReadySeconds.
    availableReplicas: int
    # The metadata.generation the controller last acted on; status is current when it equals
    # the generation.
    observedGeneration: int
    # ReplicaFailure, when pods cannot be created or deleted.
    conditions: list[ReplicaSetCondition]


class ReplicaSet(TypedDict, total=False):
    """Keeps a number of pods matching its selector running."""

    # The API group and version the object is written in (`v1`, `apps/v1`); the apiserver
    # fills it in on every object it returns.
    apiVersion: str
    # The object's kind (`Pod`, `Deployment`), which picks its schema; the apiserver fills it
    # in on every object it returns.
    kind: str
    # The object's metadata: name, namespace, labels, owners and the fields the apiserver
    # sets.
    metadata: ObjectMeta
    # The desired pods.
    spec: ReplicaSetSpec
    # The counted pods.
    status: ReplicaSetStatus


class VolumeResourceRequirements(TypedDict, total=False):
    """The storage a claim asks for."""

    # The most storage the volume may have. Stored; Schooner's node-local volumes ignore it.
    limits: ResourceList
    # The least storage the volume must have, e.g. `storage: 1Gi`. Stored; Schooner's
    # node-local volumes ignore it.
    requests: ResourceList


class TypedLocalObjectReference(TypedDict, total=False):
    """An object in the claim's namespace, by API group, kind and name."""

    # The referent's API group; empty for the core group.
    apiGroup: str
    # The referent's kind.
    kind: str
    # The referent's name.
    name: str


class TypedObjectReference(TypedDict, total=False):
    """An object, by API group, kind, name and (optionally) namespace."""

    # The referent's API group; empty for the core group.
    apiGroup: str
    # The referent's kind.
    kind: str
    # The referent's name.
    name: str
    # The referent's namespace; defaults to the claim's.
    namespace: str


class PersistentVolumeClaimSpec(TypedDict, total=False):
    """The storage a claim wants: size, access modes, class, source."""

    # ReadWriteOnce, ReadOnlyMany, ReadWriteMany or ReadWriteOncePod. Stored; Schooner's
    # node-local volumes ignore it.
    accessModes: list[str]
    # Labels of the PersistentVolumes the claim may bind. Stored; Schooner's node-local
    # volumes ignore it.
    selector: LabelSelector
    # The storage requested. Stored; Schooner's node-local volumes ignore it.
    resources: VolumeResourceRequirements
    # A PersistentVolume to bind by name. Stored; Schooner's node-local volumes ignore it.
    volumeName: str
    # The StorageClass of the volume; empty asks for none. Stored; Schooner's node-local
    # volumes ignore it.
    storageClassName: str
    # Filesystem (the default) or Block. Stored; Schooner's node-local volumes ignore it.
    volumeMode: str
    # A snapshot or claim to fill the new volume from. Stored; Schooner's node-local volumes
    # ignore it.
    dataSource: TypedLocalObjectReference
    # Any populator object to fill the new volume from. Stored; Schooner's node-local volumes
    # ignore it.
    dataSourceRef: TypedObjectReference
    # The VolumeAttributesClass of the volume. Stored; Schooner's node-local volumes ignore
    # it.
    volumeAttributesClassName: str


class PersistentVolumeClaimCondition(TypedDict, total=False):
    """One aspect of a claim's state, such as a resize in progress."""

    # The aspect, e.g. Resizing or FileSystemResizePending.
    type: str
    # True, False or Unknown.
    status: str
    # When the condition was last checked.
    lastProbeTime: str
    # When status last changed.
    lastTransitionTime: str
    # A CamelCase reason for the status.
    reason: str
    # Details for people.
    message: str


class ModifyVolumeStatus(TypedDict, total=False):
    """The state of a change of the volume's VolumeAttributesClass."""

    # The class being applied.
    targetVolumeAttributesClassName: str
    # Pending, InProgress or Infeasible.
    status: str


class PersistentVolumeClaimStatus(TypedDict, total=False):
    """A claim's binding state; no Schooner component writes it."""

    # Pending, Bound or Lost.
    phase: str
    # The access modes of the bound volume.
    accessModes: list[str]
    # The storage of the bound volume.
    capacity: ResourceList
    # The claim's conditions.
    conditions: list[PersistentVolumeClaimCondition]
    # The storage allocated to the claim during a resize.
    allocatedResources: ResourceList
    # The state of each resource's resize.
    allocatedResourceStatuses: dict[str, str]
    # The VolumeAttributesClass the volume has now.
    currentVolumeAttributesClassName: str
    # The state of a change of VolumeAttributesClass.
    modifyVolumeStatus: ModifyVolumeStatus


class PersistentVolumeClaim(TypedDict, total=False):
    """A request for storage; here, one entry of a StatefulSet's volumeClaimTemplates."""

    # `v1`, when the template names it; optional inside a StatefulSet.
    apiVersion: str
    # `PersistentVolumeClaim`, when the template names it; optional inside a StatefulSet.
    kind: str
    # The claim's name, labels and annotations. Each pod's volume is named
    # `<name>-<set>-<ordinal>`, and its containers mount it by `<name>`.
    metadata: ObjectMeta
    # The storage wanted. Stored; Schooner's node-local volumes have no size, class or access
    # mode.
    spec: PersistentVolumeClaimSpec
    # The claim's binding state. Stored; no Schooner component writes it.
    status: PersistentVolumeClaimStatus


class RollingUpdateStatefulSetStrategy(TypedDict, total=False):
    """How a StatefulSet's rolling update proceeds."""

    # Only pods with an ordinal at or above this are updated; defaults to 0.
    partition: int
    # How many pods may be unavailable during the update. Stored; Schooner updates one pod at
    # a time.
    maxUnavailable: IntOrString


class StatefulSetUpdateStrategy(TypedDict, total=False):
    """How a StatefulSet replaces its pods when the template changes."""

    # RollingUpdate (the default: replace pods from the highest ordinal down) or OnDelete
    # (only pods deleted by hand are replaced).
    type: str
    # The partition of a RollingUpdate.
    rollingUpdate: RollingUpdateStatefulSetStrategy


class StatefulSetPersistentVolumeClaimRetentionPolicy(TypedDict, total=False):
    """Whether a StatefulSet's claims are deleted with it or when it scales down."""

    # Retain (the default) or Delete, when the set is deleted. Stored; Schooner keeps the
    # volumes.
    whenDeleted: str
    # Retain (the default) or Delete, when the set scales down. Stored; Schooner keeps the
    # volumes.
    whenScaled: str


class StatefulSetOrdinals(TypedDict, total=False):
    """Where a StatefulSet's pod numbering starts."""

    # The first ordinal. Stored; Schooner numbers pods from 0.
    start: int


class StatefulSetSpec(TypedDict, total=False):
    """Pods with stable names (`<set>-0`, `<set>-1`...), DNS names and storage."""

    # How many pods to run; defaults to 1.
    replicas: int
    # Which pods belong to the workload; it must match the template's labels and cannot change
    # after creation.
    selector: LabelSelector
    # The pods to run; changing it starts a rolling update.
    template: PodTemplateSpec
    # Claims each pod gets, named `<claim>-<set>-<ordinal>`; the agent backs each with a
    # node-local volume that outlives the pod. Only their names are read.
    volumeClaimTemplates: list[PersistentVolumeClaim]
    # The headless Service that gives the pods DNS names: pods get it as their subdomain.
    serviceName: str
    # OrderedReady (the default: one pod at a time, in ordinal order) or Parallel.
    podManagementPolicy: str
    # How template changes reach the pods; defaults to RollingUpdate, partition 0.
    updateStrategy: StatefulSetUpdateStrategy
    # How many old revisions to keep for rollback; defaults to 10.
    revisionHistoryLimit: int
    # Seconds a new pod must stay ready before it counts as available; defaults to 0.
    minReadySeconds: int
    # Whether claims are deleted with the set or on scale-down. Stored; Schooner keeps the
    # volumes.
    persistentVolumeClaimRetentionPolicy: StatefulSetPersistentVolumeClaimRetentionPolicy
    # A first ordinal other than 0. Stored; Schooner numbers pods from 0.
    ordinals: StatefulSetOrdinals


class StatefulSetCondition(TypedDict, total=False):
    """A StatefulSet condition; Schooner's controller writes none."""

    # The aspect the condition is about.
    type: str
    # True, False or Unknown.
    status: str
    # Not a field of Kubernetes' StatefulSetCondition; checked as a timestamp when present (as
    # Schooner always has) and stored, never written by Schooner.
    lastUpdateTime: str
    # When status last changed.
    lastTransitionTime: str
    # A CamelCase reason for the status.
    reason: str
    # Details for people.
    message: str


class StatefulSetStatus(TypedDict, total=False):
    """What the statefulset controller last counted."""

    # The metadata.generation the controller last acted on; status is current when it equals
    # the generation.
    observedGeneration: int
    # Pods the set owns.
    replicas: int
    # Pods that are ready.
    readyReplicas: int
    # Pods at currentRevision.
    currentReplicas: int
    # Pods at updateRevision.
    updatedReplicas: int
    # Pods ready for at least minReadySeconds.
    availableReplicas: int
    # The revision of the template the pods below the partition run.
    currentRevision: str
    # The revision of the current template.
    updateRevision: str
    # Always 0: Schooner's controller does not rename colliding revisions.
    collisionCount: int
    # The set's conditions; Schooner's controller writes none.
    conditions: list[StatefulSetCondition]


class StatefulSet(TypedDict, total=False):
    """Runs pods with stable identities, created and replaced in order."""

    # The API group and version the object is written in (`v1`, `apps/v1`); the apiserver
    # fills it in on every object it returns.
    apiVersion: str
    # The object's kind (`Pod`, `Deployment`), which picks its schema; the apiserver fills it
    # in on every object it returns.
    kind: str
    # The object's metadata: name, namespace, labels, owners and the fields the apiserver
    # sets.
    metadata: ObjectMeta
    # The desired pods, their storage and update strategy.
    spec: StatefulSetSpec
    # The counted pods and revisions.
    status: StatefulSetStatus


class LeaseSpec(TypedDict, total=False):
    """Who holds the lease and until when."""

    # The holder: a node's name for its heartbeat lease, the elected instance's identity for a
    # leader-election lease.
    holderIdentity: str
    # How long the lease holds after renewTime; others may take it over once that has passed.
    # Must be positive.
    leaseDurationSeconds: int
    # When the current holder took the lease.
    acquireTime: str
    # When the holder last renewed it; the node lifecycle controller reads a node's heartbeat
    # from here.
    renewTime: str
    # How many times the lease changed holders.
    leaseTransitions: int
    # A coordinated leader election strategy. Stored; Schooner's elector does not use it.
    strategy: str
    # A holder coordinated election would prefer. Stored; Schooner's elector does not use it.
    preferredHolder: str


class Lease(TypedDict, total=False):
    """A lock with an expiry, renewed by its holder."""

    # The API group and version the object is written in (`v1`, `apps/v1`); the apiserver
    # fills it in on every object it returns.
    apiVersion: str
    # The object's kind (`Pod`, `Deployment`), which picks its schema; the apiserver fills it
    # in on every object it returns.
    kind: str
    # The object's metadata: name, namespace, labels, owners and the fields the apiserver
    # sets.
    metadata: ObjectMeta
    # The holder and timing.
    spec: LeaseSpec


class EndpointConditions(TypedDict, total=False):
    """The state of one endpoint, as consumers should read it."""

    # Whether the endpoint should receive new traffic: the pod is Ready and not terminating
    # (or the Service publishes not-ready addresses). Unset means unknown, to be read as
    # ready.
    ready: bool
    # The pod's Ready condition, whether or not it is terminating; lets a consumer fall back
    # to terminating endpoints that still serve.
    serving: bool
    # Whether the pod is being deleted (it has a deletionTimestamp).
    terminating: bool


class ForZone(TypedDict, total=False):
    """A zone an endpoint should serve in topology-aware routing."""

    # The zone's name.
    name: str


class EndpointHints(TypedDict, total=False):
    """Topology hints for consumers. Stored; Schooner's controller writes none and its proxy ignores
    them.
    """

    # Zones this endpoint should serve; at most 8.
    forZones: list[ForZone]


class Endpoint(TypedDict, total=False):
    """One backend of the Service: a pod, its addresses and its state."""

    # The endpoint's addresses, of the slice's addressType; between 1 and 100. The controller
    # writes the pod's IP; consumers use the first.
    addresses: list[str]
    # Whether the endpoint is ready, serving and terminating.
    conditions: EndpointConditions
    # The pod's hostname when its subdomain names the Service (a DNS-1123 label).
    hostname: str
    # The pod this endpoint is.
    targetRef: ObjectReference
    # Topology labels of v1beta1, kept for compatibility; the controller writes none. Stored
    # only.
    deprecatedTopology: dict[str, str]
    # The node the pod runs on.
    nodeName: str
    # The zone of that node (its topology.kubernetes.io/zone label).
    zone: str
    # Topology hints. Stored only.
    hints: EndpointHints


class DiscoveryEndpointPort(TypedDict, total=False):
    """A port every endpoint of the slice serves, named after the Service port."""

    # The Service port's name (empty when the Service has one unnamed port); a DNS-1123 label,
    # unique in the slice.
    name: str
    # TCP (the default), UDP or SCTP.
    protocol: str
    # The port number on the endpoints, from the Service port's targetPort; unset means every
    # port.
    port: int
    # The Service port's appProtocol.
    appProtocol: str


class EndpointSlice(TypedDict, total=False):
    """A subset of a Service's endpoints; the endpointslice controller keeps those of Services with
    a selector, labelled kubernetes.io/service-name.
    """

    # The API group and version the object is written in (`v1`, `apps/v1`); the apiserver
    # fills it in on every object it returns.
    apiVersion: str
    # The object's kind (`Pod`, `Deployment`), which picks its schema; the apiserver fills it
    # in on every object it returns.
    kind: str
    # The object's metadata: name, namespace, labels, owners and the fields the apiserver
    # sets.
    metadata: ObjectMeta
    # IPv4, IPv6 or FQDN: the type of every address in the slice. Required; immutable.
    addressType: str
    # The endpoints; at most 1000 (the controller puts at most 100 in a slice).
    endpoints: list[Endpoint]
    # The ports every endpoint serves; at most 100. None means no ports are exposed; a port
    # without a number means all ports.
    ports: list[DiscoveryEndpointPort]
