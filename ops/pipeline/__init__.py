"""The delivery pipeline: GitHub Actions workflows generated from the stack graph (`make workflows`)."""
