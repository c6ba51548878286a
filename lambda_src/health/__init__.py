"""Health Lambda: GET /health reports the region and whether its payments table and audit bucket answer.

Self-contained (standard library + boto3 only, relative imports); entry point ``handler.handler``.
"""
