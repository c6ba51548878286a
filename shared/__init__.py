"""What two or more layers use: names, tags, providers, backends, IAM documents and service roles, local gaps."""

from shared import aws_bindings

aws_bindings.enable_selective_import()
