#!/usr/bin/env python
"""The platform: four layers per region; the secondary region's stacks own every cross-region link.

network-R <- data-R <- compute-R <- dns-R        (R = primary, secondary)
network-primary <- network-secondary, data-primary <- data-secondary, dns-primary <- dns-secondary
"""

from __future__ import annotations

import sys

from cdktf import App

from config import ConfigError, Settings, load_settings
from stacks.compute.stack import ComputeStack
from stacks.data.stack import DataStack
from stacks.dns.stack import DnsStack
from stacks.network.stack import NetworkStack


def build(app: App, settings: Settings) -> None:
    network_p = NetworkStack(app, settings=settings, role="primary")
    data_p = DataStack(app, settings=settings, role="primary", network=network_p)
    compute_p = ComputeStack(app, settings=settings, role="primary", network=network_p, data=data_p)
    dns_p = DnsStack(app, settings=settings, role="primary", compute=compute_p)

    network_s = NetworkStack(app, settings=settings, role="secondary", peer=network_p)
    data_s = DataStack(app, settings=settings, role="secondary", network=network_s, primary=data_p)
    compute_s = ComputeStack(app, settings=settings, role="secondary", network=network_s, data=data_s)
    DnsStack(app, settings=settings, role="secondary", compute=compute_s, primary=dns_p)


def main() -> int:
    try:
        settings = load_settings()
    except ConfigError as error:
        for line in error.lines:
            print(f"config error: {line}", file=sys.stderr)
        return 2
    app = App()
    build(app, settings)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
