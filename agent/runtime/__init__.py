"""The container runtime layer: the only part of the agent that talks to Docker.

* `protocol`: `ContainerRuntime`, what every other part of the agent asks of a
  runtime (the kubelet's kubecontainer.Runtime); the layers above are typed
  against it, never against Docker;
* `container`: the runtime-neutral types they speak (`ContainerRecord`,
  `PodObservation`, `RunSpec`, the labels, the errors), kubecontainer's;
* `docker_runtime`: `DockerRuntime`, the implementation over Docker Engine and
  the only module of the agent that imports `docker` (an import-linter
  contract checks it); `streams` reads its long-lived streams (logs, events)
  on threads of their own, `gate` bounds and orders the engine's serial calls,
  `logfollow` drops what Docker repeats to a log follower at rotations,
  `proctree` kills a timed-out exec's processes, `docker_host` reads what
  Docker says about images, disk and usage.
"""
