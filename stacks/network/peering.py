"""Cross-region VPC peering, owned by the secondary network stack.

The requester lives in the primary region (through the primary provider
alias), the accepter in the secondary; each side routes the other's CIDR
through the connection. Both sides carry the same tags (the emulator reads
the requester's tags back on the accepter; on AWS identical tags are harmless).
The `Region` tag names both regions, overriding each provider's default.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.vpc_peering_connection import VpcPeeringConnection
from cdktf_cdktf_provider_aws.vpc_peering_connection_accepter import VpcPeeringConnectionAccepterA
from constructs import Construct


class PeeringSide:
    """One end of the peering: its VPC, CIDR, route tables and the provider that reaches its region."""

    def __init__(
        self, *, vpc_id: str, cidr: str, route_table_ids: Sequence[str], provider: TerraformProvider | None
    ) -> None:
        self.vpc_id = vpc_id
        self.cidr = cidr
        self.route_table_ids = list(route_table_ids)
        self.provider = provider


class CrossRegionPeering(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        requester: PeeringSide,
        accepter: PeeringSide,
        requester_region: str,
        accepter_region: str,
    ) -> None:
        super().__init__(scope, construct_id)
        tags = {"Name": name, "Region": f"{requester_region}+{accepter_region}"}
        self.connection = VpcPeeringConnection(
            self,
            "requester",
            provider=requester.provider,
            vpc_id=requester.vpc_id,
            peer_vpc_id=accepter.vpc_id,
            peer_region=accepter_region,
            auto_accept=False,
            tags=tags,
        )
        self.accepter = VpcPeeringConnectionAccepterA(
            self,
            "accepter",
            provider=accepter.provider,
            vpc_peering_connection_id=self.connection.id,
            auto_accept=True,
            tags=tags,
        )
        self._routes("to-accepter", requester, accepter.cidr)
        self._routes("to-requester", accepter, requester.cidr)

    def _routes(self, prefix: str, side: PeeringSide, destination: str) -> None:
        for index, table_id in enumerate(side.route_table_ids):
            Route(
                self,
                f"{prefix}-{index}",
                provider=side.provider,
                route_table_id=table_id,
                destination_cidr_block=destination,
                vpc_peering_connection_id=self.accepter.vpc_peering_connection_id,
            )
