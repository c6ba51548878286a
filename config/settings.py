"""Typed, immutable settings for one environment.

Built by ``config.loader.load_settings`` from ``config/environments/<env>.toml``
plus ``.env`` overrides, and validated (``config.validation``) before anything
is synthesized or deployed.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass, field
from typing import Literal

Role = Literal["primary", "secondary"]
ROLES: tuple[Role, Role] = ("primary", "secondary")


def other_role(role: Role) -> Role:
    return "primary" if role == "secondary" else "secondary"


Target = Literal["local", "aws"]
NatStrategy = Literal["single", "per_az"]


@dataclass(frozen=True)
class Regions:
    primary: str
    secondary: str

    def of(self, role: Role) -> str:
        return self.primary if role == "primary" else self.secondary


@dataclass(frozen=True)
class SubnetLayout:
    """The subnets of one VPC, tier by tier, one per availability zone."""

    public: tuple[str, ...]
    private: tuple[str, ...]
    isolated: tuple[str, ...]


@dataclass(frozen=True)
class Network:
    primary_cidr: str
    secondary_cidr: str
    az_count: int
    subnet_prefix: int
    nat_strategy: NatStrategy
    flow_log_retention_days: int
    primary_az_ids: tuple[str, ...]
    secondary_az_ids: tuple[str, ...]

    def cidr(self, role: Role) -> str:
        return self.primary_cidr if role == "primary" else self.secondary_cidr

    def az_ids(self, role: Role) -> tuple[str, ...]:
        """The configured zone ids of a region (empty: the account's available zones are looked up)."""
        return self.primary_az_ids if role == "primary" else self.secondary_az_ids

    def subnets(self, role: Role) -> SubnetLayout:
        """Carve the VPC into consecutive blocks: public, then private, then isolated."""
        blocks = ipaddress.ip_network(self.cidr(role)).subnets(new_prefix=self.subnet_prefix)
        carved = [str(next(blocks)) for _ in range(3 * self.az_count)]
        n = self.az_count
        return SubnetLayout(
            public=tuple(carved[0:n]),
            private=tuple(carved[n : 2 * n]),
            isolated=tuple(carved[2 * n : 3 * n]),
        )

    @property
    def nat_gateway_count(self) -> int:
        return self.az_count if self.nat_strategy == "per_az" else 1


FAULT_EMULATOR_PORT_OFFSET = 3  # past the two PostgreSQL ports (postgres_port)


@dataclass(frozen=True)
class LocalTarget:
    host: str
    port: int
    fault_injection: bool = False  # the fault proxy (ops/local/fault_proxy.py) answers on `port`, moto behind it

    @property
    def endpoint(self) -> str:
        """What every client calls: the emulator, or the fault proxy in front of it."""
        return f"http://{self.host}:{self.port}"

    @property
    def emulator_port(self) -> int:
        """Where moto itself listens: `port`, or `port + 3` when the fault proxy takes `port`."""
        return self.port + FAULT_EMULATOR_PORT_OFFSET if self.fault_injection else self.port

    def postgres_port(self, role: Role) -> int:
        """The local PostgreSQL instance standing in for `role`'s Aurora cluster: the ports after the emulator's."""
        return self.port + 1 + ROLES.index(role)


@dataclass(frozen=True)
class AwsTarget:
    profile: str
    account_id: str


STATE_REPLICA_SUFFIX = "-replica"


@dataclass(frozen=True)
class State:
    bucket: str  # the state home in the primary region; its replica: `Settings.state_bucket_of("secondary")`
    lock_table: str  # the same name in both regions (a global table on AWS)
    lock_timeout_seconds: int
    home: Role = "primary"  # which copy ops reads and writes: chosen per command by `ops.state.home`


@dataclass(frozen=True)
class Data:
    backup_retention_days: int
    backup_copy_to_secondary: bool
    noncurrent_version_expiration_days: int
    replication_time_control: bool
    audit_object_lock_days: int  # S3 Object Lock (COMPLIANCE) default retention of audit records; 0: no lock
    backup_vault_lock_days: int  # Backup Vault Lock minimum retention (compliance mode); 0: no lock
    aurora_engine_version: str
    aurora_instance_class: str
    aurora_instance_count: int
    database_name: str
    database_master_username: str
    aurora_cpu_alarm_percent: int  # the CPU alarm of each region's Aurora writer/reader instances
    replication_lag_alarm_ms: int  # the Aurora global replication lag alarm (seed 004: 1,000 ms)
    # AWS's RDS CA bundle (a path, relative to the repository root), packaged into the ledger's archives; the
    # functions verify the database's certificate against it. Empty: none (make preflight fails on aws).
    rds_ca_bundle: str


@dataclass(frozen=True)
class Compute:
    reserve_concurrency: bool
    lambda_p99_latency_ms: int
    log_retention_days: int
    lambda_memory_mb: int
    lambda_timeout_seconds: int
    max_amount: str
    allowed_currencies: tuple[str, ...]
    api_throttle_rate_limit: int
    api_throttle_burst_limit: int
    api_quota_per_day: int
    waf_rate_limit: int  # requests per client IP per 5 minutes before the web ACL blocks it (stacks/compute/waf.py)
    alarm_email: str
    # The API front door: "lambda" (API Gateway + functions) or "ec2" (load balancer + an Auto Scaling fleet).
    runtime: str
    instance_type: str
    fleet_min: int
    fleet_max: int
    fleet_desired: int
    fleet_cpu_target_percent: int
    instance_refresh_min_healthy_percent: int
    health_check_grace_seconds: int
    target_p99_response_ms: int

    @property
    def reserved_concurrency(self) -> int | None:
        """Each function's reserved concurrency, or None to leave it unreserved (the account's shared pool).

        Little's law: requests in flight = arrival rate x time in the system. The API admits `burst` requests
        at once and `rate` per second after, each held for up to the p99 latency, so a function behind it needs
        burst + rate x p99 executions; fewer turn admitted requests into throttles (5xx at the API).
        """
        if not self.reserve_concurrency:
            return None
        in_flight_at_rate = math.ceil(self.api_throttle_rate_limit * self.lambda_p99_latency_ms / 1000)
        return self.api_throttle_burst_limit + in_flight_at_rate


@dataclass(frozen=True)
class Dns:
    zone_name: str
    existing_zone_id: str
    api_record: str
    primary_weight: int


@dataclass(frozen=True)
class Migration:
    batch: str  # seed 000: every resource tagged MigrationBatch=<batch> (provider default tags); empty: no such tag


@dataclass(frozen=True)
class Pipeline:
    github_repository: str  # "owner/name" whose GitHub Actions `make bootstrap` trusts (OIDC roles); empty: none


@dataclass(frozen=True)
class Settings:
    project: str
    environment: str
    environment_suffix: str
    target: Target
    regions: Regions
    network: Network
    tags: dict[str, str]
    local: LocalTarget
    aws: AwsTarget
    state: State
    data: Data
    compute: Compute
    dns: Dns
    migration: Migration
    pipeline: Pipeline = Pipeline(github_repository="")
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_local(self) -> bool:
        return self.target == "local"

    @property
    def is_production(self) -> bool:
        return self.environment == "prod"

    @property
    def bootstrap_key_alias(self) -> str:
        """The KMS key `make bootstrap` creates in each region: remote state, the lock table and RDSOSMetrics use it."""
        return f"alias/{self.project}-{self.environment_suffix}-bootstrap"

    def state_bucket_of(self, role: Role) -> str:
        """The remote-state bucket kept in `role`'s region: the home in the primary, its replica in the secondary."""
        return self.state.bucket if role == "primary" else f"{self.state.bucket}{STATE_REPLICA_SUFFIX}"

    @property
    def state_bucket(self) -> str:
        """The bucket of the state copy in use (`state.home`)."""
        return self.state_bucket_of(self.state.home)

    @property
    def state_region(self) -> str:
        """The region of the state copy in use: the primary's (which never depends on the secondary) unless
        `ops.state.home` found it unreachable and chose the replica."""
        return self.regions.of(self.state.home)
