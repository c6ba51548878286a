"""Whether a boto3 client talks to AWS itself or to an emulator (the local target, or `AWS_ENDPOINT_URL`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

AWS_DOMAINS = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")


def is_emulator(client: Any) -> bool:
    """True when the client's endpoint is not an AWS domain: what an emulator cannot answer is then skipped, named
    by its gap in `shared.local_target.GAPS`, never silently."""
    host = urlparse(str(client.meta.endpoint_url)).hostname or ""
    return not host.endswith(AWS_DOMAINS)
