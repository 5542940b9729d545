"""The rbac.authorization.k8s.io group: Role, ClusterRole, RoleBinding, ClusterRoleBinding."""
