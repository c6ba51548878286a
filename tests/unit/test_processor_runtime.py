"""The instances' environment file: what the user data writes is what systemd hands the service and what the local
stand-in reads back (shared.processor_runtime)."""

from __future__ import annotations

import pytest

from shared.processor_runtime import (
    environment_file,
    environment_from_user_data,
    environment_heredoc,
    parse_environment_file,
)

# The write home's origins are JSON: systemd strips the double quotes of an unquoted value (its env-file parser, the
# one EnvironmentFile= uses), and keeps every character of a single-quoted one.
VALUES = {
    "WRITE_HOME_ORIGINS": '{"primary": "https://origin-primary.api.example.com"}',
    "PAYMENTS_TABLE": "payments-dev-primary-payments",
    "EMPTY": "",
    "WITH_SPACES": "a b  c",
    "DOLLAR": "${NOT_EXPANDED} $HOME",
}


def test_every_value_is_single_quoted_and_sorted() -> None:
    lines = environment_file(VALUES).splitlines()
    assert lines == [f"{key}='{VALUES[key]}'" for key in sorted(VALUES)]


def test_the_file_reads_back_exactly_through_the_user_data() -> None:
    script = f"#!/bin/bash\nset -euo pipefail\n{environment_heredoc(VALUES)}systemctl enable --now x\n"
    assert environment_from_user_data(script) == VALUES


@pytest.mark.parametrize(
    ("key", "value"),
    [("QUOTE", "it's"), ("NEWLINE", "a\nb"), ("lower", "x"), ("1DIGIT", "x")],
)
def test_a_value_systemd_would_change_is_refused_naming_the_key(key: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"^{key}: not an environment file line"):
        environment_file({key: value})


def test_unquoted_lines_comments_and_blanks() -> None:
    assert parse_environment_file("# comment\n\nA=1\nB='2'\n") == {"A": "1", "B": "2"}
    with pytest.raises(ValueError, match="not an environment file line"):
        parse_environment_file("not a line\n")


def test_user_data_without_the_file_is_refused() -> None:
    with pytest.raises(ValueError, match=r"does not write /etc/payments/processor\.env"):
        environment_from_user_data("#!/bin/bash\necho hi\n")
