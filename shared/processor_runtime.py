"""The payment processor as a long-running service (`compute.runtime = "ec2"`): the facts its instances, its
load balancer, its artifact and the local stand-in share.

An instance runs the artifact (the payment code of `lambda_src/` and its HTTP adapter `payment_server`) as the
systemd unit `SERVICE_NAME`, listening on `PORT`; the load balancer's target group checks `HEALTH_PATH`. The unit
reads its settings from `ENVIRONMENT_FILE`, which the launch template's user data writes with
`environment_file()`; the local target reads the same lines back from the deployed user data with
`parse_environment_file()` to start its stand-in process with what an instance would have.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

RUNTIMES = ("lambda", "ec2")
SERVICE_NAME = "payment-processor"
PORT = 8080
HEALTH_PATH = "/health"  # the target group's check; the API's own GET /v1/health is routed as on API Gateway
ENVIRONMENT_FILE = "/etc/payments/processor.env"
INSTALL_DIR = "/opt/payments"
# systemd's EnvironmentFile= syntax (its env-file parser), one KEY='VALUE' per line. Unquoted, systemd strips the quotes
# inside a value (the write home's origins are JSON); inside single quotes it keeps every character as written, so
# a value may hold anything but a single quote or a newline.
_LINE = re.compile(r"([A-Z][A-Z0-9_]*)=(.*)")


def environment_file(values: Mapping[str, str]) -> str:
    """The lines of `ENVIRONMENT_FILE`, sorted by key, each value single-quoted."""
    for key, value in values.items():
        if not _LINE.fullmatch(f"{key}=") or "\n" in value or "'" in value:
            raise ValueError(f"{key}: not an environment file line (KEY='VALUE' on one line, no single quote)")
    return "".join(f"{key}='{values[key]}'\n" for key in sorted(values))


def parse_environment_file(text: str) -> dict[str, str]:
    """The values `environment_file()` wrote (blank lines and `#` comments skipped)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            raise ValueError(f"not an environment file line: {line[:40]!r}")
        value = match.group(2)
        quoted = len(value) >= 2 and value[0] == value[-1] == "'"
        values[match.group(1)] = value[1:-1] if quoted else value
    return values


# The user data writes the file with a quoted heredoc (no shell expansion), between these two lines.
HEREDOC_MARKER = "PAYMENTS_ENV"
HEREDOC_START = f"cat > {ENVIRONMENT_FILE} <<'{HEREDOC_MARKER}'"


def environment_heredoc(values: Mapping[str, str]) -> str:
    """The user data's lines that write `ENVIRONMENT_FILE`."""
    return f"{HEREDOC_START}\n{environment_file(values)}{HEREDOC_MARKER}\n"


def environment_from_user_data(script: str) -> dict[str, str]:
    """What `environment_heredoc()` wrote into a user data script (the decoded text)."""
    start = script.find(HEREDOC_START + "\n")
    if start < 0:
        raise ValueError(f"the user data does not write {ENVIRONMENT_FILE}")
    body = script[start + len(HEREDOC_START) + 1 :]
    end = body.find(f"\n{HEREDOC_MARKER}\n") if not body.startswith(f"{HEREDOC_MARKER}\n") else -1
    return parse_environment_file(body[: end + 1] if end >= 0 else "")
