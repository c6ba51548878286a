"""Where the client gets the API key value it holds: one value, accepted in both regions (issue 15, `ops.keys`).

`KeySource` has the signature of `ops.keys.api_key.current(settings, role)`; until that lands, `deployed_key` reads
the primary compute stack's `api_key_value` output (each region still has its own value there, so the secondary
answers 403 to it: the very gap the one key closes).
"""

from __future__ import annotations

from collections.abc import Callable

from config.settings import Role, Settings
from ops.deploy.outputs import reveal

KeySource = Callable[[Settings, Role], str]


def deployed_key(settings: Settings, role: Role) -> str:
    return str(reveal(settings, f"compute-{role}", "api_key_value"))
