"""The core group (`/api/v1`): Namespace, Node, Pod, Service, Endpoints, ConfigMap,
Secret, Event, and the pod template they share."""
