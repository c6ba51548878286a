"""Terraform in a stack directory: the runner, its CLI config, state locks it took itself, stale-lock release."""
