"""The Aurora side of the ledger: each region's cluster (from the data stacks' outputs) and the global writer (RDS)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from config.settings import Role, Settings
from ops.core.aws_clients import client
from ops.deploy.outputs import layer_outputs
from shared.local_target import EMULATOR_GLOBAL_CLUSTER_REGION


@dataclass(frozen=True)
class Cluster:
    role: Role
    region: str
    identifier: str
    arn: str


def clusters(settings: Settings) -> tuple[dict[Role, Cluster], str]:
    """Each region's Aurora cluster and the global cluster id, from the data stacks' outputs."""
    outputs = layer_outputs(settings, "data", "the global database spans both regions")
    found = {
        role: Cluster(role, settings.regions.of(role), data["cluster_identifier"], data["cluster_arn"])
        for role, data in outputs.items()
    }
    return found, outputs["primary"]["global_cluster_identifier"]


def global_region(settings: Settings, fallback: str) -> str:
    """Where to call the global-cluster APIs (the emulator keeps every global cluster in one region)."""
    return EMULATOR_GLOBAL_CLUSTER_REGION if settings.is_local else fallback


def describe_global(settings: Settings, global_id: str) -> dict[str, Any]:
    rds = client(settings, "rds", global_region(settings, settings.regions.primary))
    described: dict[str, Any] = rds.describe_global_clusters(GlobalClusterIdentifier=global_id)["GlobalClusters"][0]
    return described


def writer_role(members: Sequence[dict[str, Any]], found: dict[Role, Cluster]) -> Role | None:
    writers = {m["DBClusterArn"] for m in members if m.get("IsWriter")}
    return next((role for role, cluster in found.items() if cluster.arn in writers), None)


def global_writer(settings: Settings) -> tuple[dict[Role, Cluster], Role | None]:
    """The clusters, and the region of the global cluster's writer (None when no member is a writer)."""
    found, global_id = clusters(settings)
    return found, writer_role(describe_global(settings, global_id).get("GlobalClusterMembers", []), found)
