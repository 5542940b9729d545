"""kubectl's view of what the cluster serves: api-versions and api-resources."""

from __future__ import annotations

import pytest

from tests.compat.conftest import Cluster, Kubectl

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.mark.compat("kubectl api-versions")
def test_api_versions_lists_every_group_version(kubectl: Kubectl, cluster: Cluster) -> None:
    served = set(kubectl("api-versions").stdout.split())
    groups = cluster.client.request("GET", "/apis").json()["groups"]
    expected = {"v1"} | {v["groupVersion"] for g in groups for v in g["versions"]}
    assert served == expected
    assert {"v1", "apps/v1", "coordination.k8s.io/v1", "scheduling.k8s.io/v1"} <= served


@pytest.mark.compat("kubectl api-resources -o wide")
def test_api_resources_wide_names_verbs_and_short_names(kubectl: Kubectl) -> None:
    lines = kubectl("api-resources", "-o", "wide").stdout.splitlines()
    header = lines[0].split()
    assert header[:5] == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    assert "VERBS" in header
    rows = {line.split()[0]: line for line in lines[1:]}
    assert "deploy" in rows["deployments"] and "apps/v1" in rows["deployments"]
    assert rows["pods"].split()[5] == "create,delete,deletecollection,get,list,patch,update,watch"
    assert rows["pods"].split()[-1] == "all"  # CATEGORIES: `kubectl get all` lists pods
    assert "false" in rows["nodes"].split()[2:4] and "true" in rows["pods"].split()[2:4]
    names = set(kubectl("api-resources", "-o", "name").stdout.split())
    assert {"pods", "deployments.apps", "priorityclasses.scheduling.k8s.io"} <= names

