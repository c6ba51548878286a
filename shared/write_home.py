"""The write home: the one region that accepts payment writes (`docs/write-home.md`).

Each region holds its own view in an SSM parameter (`<path>/write-home`), written by Terraform once with the
primary role and then only by failover and failback (`ops.traffic.write_home`):

    "<role>"   the region whose role this is accepts writes; the other region answers 307 to its origin name
    "fenced"   nobody in this region accepts writes (503, Retry-After): the window of a switch
"""

from __future__ import annotations

from typing import Final

from config.settings import ROLES, Role, Settings
from shared.naming import Naming

PARAMETER_COMPONENT: Final = "write-home"
FENCED: Final = "fenced"
INITIAL: Final[Role] = "primary"
CACHE_SECONDS: Final = 5  # how long a function trusts the value it read; the fencing wait covers it
# The payments table holds payments (`pay_...`) and one more item: the sentinel a switch writes in the old home's
# table to see replication catch up. Anything that scans the table counts only payment ids.
PAYMENT_ID_PREFIX: Final = "pay_"
SENTINEL_ID: Final = "_fence"


def parameter_name(settings: Settings, role: Role) -> str:
    """`/<project>/<suffix>/<role>/write-home`: the region's own view (created by compute-<role>)."""
    return Naming.for_role(settings, role).path(PARAMETER_COMPONENT)


def is_payment_id(item_id: str) -> bool:
    return item_id.startswith(PAYMENT_ID_PREFIX)


def parse(value: str) -> Role | None:
    """The role a region's parameter names as the write home; None while fenced. ValueError on anything else."""
    if value == FENCED:
        return None
    if value in ROLES:
        return value
    raise ValueError(f"write home {value!r} is not one of {[*ROLES, FENCED]}")
