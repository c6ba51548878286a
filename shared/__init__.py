"""Constructs and helpers shared by every stack: names, tags, providers, backends."""

from shared import aws_bindings

aws_bindings.enable_selective_import()
