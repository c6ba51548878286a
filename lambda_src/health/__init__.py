"""Health Lambda: GET /health reports the region and whether its payments table and audit bucket answer.

Entry point ``handler.handler``; the archive carries this package and ``lambda_src.common``.
"""
