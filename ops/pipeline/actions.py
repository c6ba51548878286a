"""The actions the generated workflows use, each pinned to the commit its release tag names.

A tag can be moved; a commit cannot. Each SHA below was read from a mirror of the action's repository with
`git rev-parse <tag>^{commit}`; to upgrade, read the new tag's commit the same way and change both fields.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pin:
    repository: str
    sha: str
    tag: str

    @property
    def uses(self) -> str:
        return f"{self.repository}@{self.sha}"


CHECKOUT = Pin("actions/checkout", "3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1")
SETUP_PYTHON = Pin("actions/setup-python", "5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0")
UPLOAD_ARTIFACT = Pin("actions/upload-artifact", "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0")
CONFIGURE_AWS_CREDENTIALS = Pin(
    "aws-actions/configure-aws-credentials", "e6de054238d6b7531b4efff3b6587d9aade6a06c", "v6.2.3"
)
SETUP_TERRAFORM = Pin("hashicorp/setup-terraform", "dfe3c3f87815947d99a8997f908cb6525fc44e9e", "v4.0.1")
STICKY_COMMENT = Pin("marocchino/sticky-pull-request-comment", "5770ad5eb8f42dd2c4f34da00c94c5381e49af88", "v3.0.5")

PINS: tuple[Pin, ...] = (
    CHECKOUT,
    SETUP_PYTHON,
    UPLOAD_ARTIFACT,
    CONFIGURE_AWS_CREDENTIALS,
    SETUP_TERRAFORM,
    STICKY_COMMENT,
)
