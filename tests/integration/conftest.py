"""Integration tests deploy the real stacks to a private emulator, once per session.

Order matters and is explicit: `deployed` runs `deploy primary` then
`deploy secondary` (what `make deploy-primary && make deploy-secondary` do);
test modules check what was deployed; `test_zz_teardown.py` destroys in
reverse order and checks nothing is left behind.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.platform import Platform, free_port


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    workdir = tmp_path_factory.mktemp("platform")
    for _ in range(5):
        platform = Platform(workdir=workdir, port=free_port())
        # The emulator must be this session's own: another session could have taken the same free port.
        if "emulator started on" in platform.must("local-up"):
            break
    else:
        pytest.fail("could not start a private emulator on a free port")
    yield platform
    platform.ops("local-down")


@pytest.fixture(scope="session")
def deploy_logs(platform: Platform) -> dict[str, dict[str, Any]]:
    """Each region's deploy summary (`deploy <role> --json`)."""
    return {role: json.loads(platform.must("deploy", role, "--json")) for role in ("primary", "secondary")}


@pytest.fixture(scope="session")
def deployed(platform: Platform, deploy_logs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The outputs file written by the deploys: {stack: {output: value}}."""
    return platform.outputs()
