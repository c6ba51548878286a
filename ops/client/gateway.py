"""What API Gateway does with a request that reached a region's custom domain, read from the deployed API:
the domain (by its regional name), its certificate, the base path mapping, the route, the API key, the integration.

A refusal is what API Gateway itself would answer (`Refusal`: 403 for an unmapped path or a bad key, as
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-key-source.html says for keys).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from config.settings import Settings
from ops.client.aws import client
from ops.client.certificates import check_issued_for, covers
from ops.client.resolve import Resolution, ResolveError

NO_BASE_PATH = "(none)"  # how API Gateway lists a mapping of the whole domain


class Refusal(Exception):  # not a failure of ours: API Gateway's answer
    """API Gateway answers the request itself: `status` and its `{"message": ...}`."""

    def __init__(self, status: int, message: str, why: str) -> None:
        super().__init__(why)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Target:
    """The integration a request reaches, and what API Gateway knows about it."""

    region: str
    domain_name: str
    rest_api_id: str
    stage: str
    resource: str  # the API's template, `/payments/{id}`
    path_parameters: dict[str, str] = field(default_factory=dict)
    function_name: str = ""
    api_key_id: str | None = None


def find_domain(settings: Settings, resolution: Resolution, regions: list[str]) -> tuple[str, dict[str, Any]]:
    """The custom domain whose regional domain name the alias named, and its region: GetDomainNames in the region
    the regional domain name is in (`d-<id>.execute-api.<region>.amazonaws.com`), as DNS would only reach that one;
    a name of no listed region is looked for in each (and then refused)."""
    for region in [resolution.region] if resolution.region in regions else regions:
        for page in client(settings, "apigateway", region).get_paginator("get_domain_names").paginate():
            for domain in page["items"]:
                if domain.get("regionalDomainName", "").lower() == resolution.regional_domain_name:
                    if domain.get("regionalHostedZoneId") != resolution.regional_zone_id:
                        raise ResolveError(
                            f"{resolution.host}: the alias names zone {resolution.regional_zone_id}, the domain "
                            f"{domain['domainName']} is in {domain.get('regionalHostedZoneId')}"
                        )
                    return region, domain
    raise ResolveError(
        f"{resolution.host}: no custom domain in {', '.join(regions)} is {resolution.regional_domain_name}"
    )


def check_certificate(settings: Settings, region: str, domain: dict[str, Any], host: str) -> None:
    """TLS: the domain serves its regional certificate, which must be ISSUED and cover the Host."""
    if not covers([domain["domainName"]], host):
        raise ResolveError(f"{host}: the alias leads to the custom domain {domain['domainName']}, not to {host}")
    arn = domain.get("regionalCertificateArn")
    if not arn:
        raise ResolveError(f"{host}: custom domain {domain['domainName']} has no regional certificate")
    check_issued_for(settings, region, arn, host)


def map_path(settings: Settings, region: str, domain_name: str, path: str) -> tuple[str, str, str]:
    """(rest API id, stage, path inside the API) by the domain's base path mappings (GetBasePathMappings)."""
    segments = path.strip("/").split("/")
    mappings = client(settings, "apigateway", region).get_base_path_mappings(domainName=domain_name).get("items", [])
    for mapping in mappings:
        base = mapping.get("basePath", NO_BASE_PATH)
        if base == NO_BASE_PATH:
            return mapping["restApiId"], mapping["stage"], path
        if segments[0] == base:
            return mapping["restApiId"], mapping["stage"], "/" + "/".join(segments[1:])
    raise Refusal(403, "Forbidden", f"{domain_name}{path}: no base path mapping")


def _matches(template: str, path: str) -> dict[str, str] | None:
    want, got = template.strip("/").split("/"), path.strip("/").split("/")
    if len(want) != len(got):
        return None
    parameters: dict[str, str] = {}
    for part, value in zip(want, got, strict=True):
        if part.startswith("{") and part.endswith("}"):
            parameters[part[1:-1]] = value
        elif part != value:
            return None
    return parameters


def find_resource(
    settings: Settings, region: str, rest_api_id: str, path: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """The API resource matching `path`; literal segments win over path parameters, as API Gateway picks."""
    pages = (
        client(settings, "apigateway", region)
        .get_paginator("get_resources")
        .paginate(restApiId=rest_api_id, embed=["methods"])
    )
    found = [(r, p) for page in pages for r in page["items"] if (p := _matches(r["path"], path)) is not None]
    if not found:
        raise Refusal(403, "Missing Authentication Token", f"{path}: no such resource in API {rest_api_id}")
    return min(found, key=lambda pair: len(pair[1]))


def accepted_key_id(settings: Settings, region: str, rest_api_id: str, stage: str, key: str) -> str:
    """The id of an enabled API key with this value, in a usage plan of this API stage (GetApiKeys, GetUsagePlans)."""
    gateway = client(settings, "apigateway", region)
    pages = gateway.get_paginator("get_api_keys").paginate(includeValues=True)
    for api_key in (k for page in pages for k in page["items"] if k.get("value") == key and k.get("enabled")):
        for plan in gateway.get_usage_plans(keyId=api_key["id"]).get("items", []):
            if any(s.get("apiId") == rest_api_id and s.get("stage") == stage for s in plan.get("apiStages", [])):
                found: str = api_key["id"]
                return found
    raise Refusal(403, "Forbidden", f"the API key is not accepted by API {rest_api_id} stage {stage} in {region}")


def function_of(integration: dict[str, Any]) -> str:
    """The function name of an AWS_PROXY Lambda integration
    (`arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function arn>/invocations`)."""
    uri: str = integration.get("uri", "")
    if integration.get("type") != "AWS_PROXY" or "/functions/" not in uri:
        raise ResolveError(f"integration {uri or integration.get('type')} is not a Lambda proxy integration")
    function_arn = uri.split("/functions/", 1)[1].rsplit("/invocations", 1)[0]
    return function_arn.split(":")[6]


def route(
    settings: Settings, resolution: Resolution, regions: list[str], method: str, path: str, *, key: str | None
) -> Target:
    """Everything API Gateway checks before it invokes the function; Refusal or ResolveError when it would not."""
    region, domain = find_domain(settings, resolution, regions)
    check_certificate(settings, region, domain, resolution.host)
    rest_api_id, stage, inner = map_path(settings, region, domain["domainName"], path)
    resource, parameters = find_resource(settings, region, rest_api_id, inner)
    gateway = client(settings, "apigateway", region)
    if method not in resource.get("resourceMethods", {}):
        raise Refusal(403, "Missing Authentication Token", f"{method} {inner}: no such method in API {rest_api_id}")
    found = gateway.get_method(restApiId=rest_api_id, resourceId=resource["id"], httpMethod=method)
    key_id = None
    if found.get("apiKeyRequired"):
        if not key:
            raise Refusal(403, "Forbidden", f"{method} {inner} requires an API key; none was sent")
        key_id = accepted_key_id(settings, region, rest_api_id, stage, key)
    integration = gateway.get_integration(restApiId=rest_api_id, resourceId=resource["id"], httpMethod=method)
    return Target(
        region, domain["domainName"], rest_api_id, stage, resource["path"], parameters, function_of(integration), key_id
    )
