"""The apps group: Deployment, ReplicaSet, StatefulSet, and the scale subresource they share."""
