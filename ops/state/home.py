"""Which copy of the remote state a command uses: the primary home, or its replica when the primary does not answer.

Once per command that touches state, the primary home is asked one HeadBucket with short timeouts and no retries.
An answer of any kind from S3 (even "no such bucket": a first bootstrap) keeps the primary; no answer (connection
refused or closed, a timeout, a 5xx) moves the whole command to the replica in the secondary region, with one
warning line, if the replica answers (when neither does, nothing survives to fall back to).
PAYMENTS_STATE_HOME=primary|secondary forces a home without probing (`config.loader` applies it).
"""

from __future__ import annotations

from dataclasses import replace

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

from config.loader import STATE_HOME_SELECTOR, forced_state_home
from config.settings import Role, Settings
from ops.core.aws_clients import client
from ops.core.aws_errors import AwsAccessError
from ops.core.console import console

# The probe's client is its own: a dead region must cost seconds, not the normal client's retries and timeouts.
PROBE_CONFIG = Config(connect_timeout=2, read_timeout=3, retries={"total_max_attempts": 1, "mode": "standard"})


def unreachable_error(settings: Settings, role: Role = "primary") -> str | None:
    """The error class that shows `role`'s home unreachable (no answer, or a 5xx); None when S3 answered."""
    try:
        s3 = client(settings, "s3", settings.regions.of(role), PROBE_CONFIG, translate=False)
        s3.head_bucket(Bucket=settings.state_bucket_of(role))
    except (ConnectionError, HTTPClientError) as error:  # refused, closed without an answer, timed out
        return type(error).__name__
    except ClientError as error:
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        code = error.response.get("Error", {}).get("Code", "")
        if status < 500:
            return None
        return f"{code} (HTTP {status})" if code and code != str(status) else f"HTTP {status}"  # HEAD: no body
    except (BotoCoreError, AwsAccessError):
        return None  # no credentials, an unknown profile: not the region's doing; the access check says it
    return None


def warning(settings: Settings, error: str) -> str:
    replica, replica_region = settings.state_bucket_of("secondary"), settings.regions.secondary
    return (
        f"WARNING: the primary state home {settings.state_bucket_of('primary')} in {settings.regions.primary} "
        f"does not answer ({error}): using the replica {replica} in {replica_region}; writes go to the replica; "
        f"the primary home is brought back in step by replication when it recovers "
        f"(force a home with {STATE_HOME_SELECTOR}=primary|secondary)"
    )


def select(settings: Settings) -> Settings:
    """`settings` with `state.home` chosen for this command: forced, the primary when it answers, else the replica.
    A home the caller already chose (an unplanned failover: the lost region is never asked) is kept."""
    if forced_state_home() is not None or settings.state.home != "primary":
        return settings  # load_settings applied it, or the caller chose
    error = unreachable_error(settings)
    if error is None or unreachable_error(settings, "secondary") is not None:
        return settings  # no copy answers (the network, the emulator down): the access check names the endpoint
    console.error(warning(settings, error))
    return with_home(settings, "secondary")


def with_home(settings: Settings, role: Role) -> Settings:
    """`settings` reading and writing `role`'s copy of the state."""
    return replace(settings, state=replace(settings.state, home=role))
