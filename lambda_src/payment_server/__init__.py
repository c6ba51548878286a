"""The payment processor's HTTP adapter (`compute.runtime = "ec2"`): `python -m lambda_src.payment_server`.

The Lambda adapter (`payment_processor.handler`) receives API Gateway's events; this one receives HTTP requests
from the load balancer and does what API Gateway did in front of the functions -- routes under the base path,
API keys, API Gateway's own refusals -- then builds the same `ApiRequest` and calls the same `dispatch`
(`payment_processor.app.answer`); health calls `health.app.check`. docs/runtime-ec2.md, "The HTTP adapter".
"""
