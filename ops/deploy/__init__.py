"""Applying stacks: the deploy engine, outputs, releases and rollback, drift."""
