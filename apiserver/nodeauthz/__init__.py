"""Nodes see only what their pods need: Kubernetes' Node authorizer and NodeRestriction.

* `graph`: which Secrets, ConfigMaps and ServiceAccounts the pods bound to each node
  reference (pure, an index kept per node);
* `populator`: keeps that index current from the apiserver's pods watch cache;
* `authorizer`: `--authorization-mode Node` (plugin/pkg/auth/authorizer/node);
* `restriction`: the NodeRestriction admission (plugin/pkg/admission/noderestriction).
"""
