"""A region's TLS front door: an ACM certificate validated through DNS, and the API's regional custom domains.

Two names reach a region's API Gateway: the entry `api.<zone>` (what clients send as Host, whichever region
answers) and the region's own `origin-<role>.api.<zone>`. The certificate covers exactly those two; each has a
REGIONAL custom domain (TLS 1.2 or newer) whose base path `v1` maps to the region's REST API stage. The legs
`<role>.api.<zone>` are alias hops inside Route 53 only: no client ever sends them as Host, so they get no
certificate name and no custom domain.

API Gateway needs a regional custom domain's certificate in the API's own region, so everything here is built
with the DNS stack's regional provider (the same region as its compute stack).
"""

from __future__ import annotations

from cdktf import TerraformIterator, TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.api_gateway_base_path_mapping import ApiGatewayBasePathMapping
from cdktf_cdktf_provider_aws.api_gateway_domain_name import (
    ApiGatewayDomainName,
    ApiGatewayDomainNameEndpointConfiguration,
)
from cdktf_cdktf_provider_aws.route53_record import Route53Record
from constructs import Construct

VALIDATION_RECORD_TTL_SECONDS = 60
SECURITY_POLICY = "TLS_1_2"  # accepts TLS 1.2 and 1.3, rejects 1.0/1.1


class ValidatedCertificate(Construct):
    """An ACM certificate for `domain_name` (+ SANs), validated by CNAME records in the zone.

    The validation records are keyed by the certificate's names, each taking its record from the certificate's
    `domain_validation_options`; `allow_overwrite` lets two names that share a validation record (a name and its
    wildcard) write the same record. Exposes `certificate` and `certificate_arn` (the validated certificate's ARN:
    using it waits until ACM has issued it).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain_name: str,
        alternative_names: list[str],
        zone_id: str,
        name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.certificate = AcmCertificate(
            self,
            "certificate",
            domain_name=domain_name,
            subject_alternative_names=alternative_names,
            validation_method="DNS",
            tags={"Name": name},
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),  # domains move to the new one first
        )
        # Keyed by the names in this configuration, known at plan time: `domain_validation_options` itself is
        # unknown until ACM creates the certificate, so keys taken from it fail the first plan.
        names = TerraformIterator.from_list([domain_name, *alternative_names])
        records = Route53Record(
            self,
            "validation",
            for_each=names,
            zone_id=zone_id,
            name=self._option("resource_record_name"),
            type=self._option("resource_record_type"),
            records=[self._option("resource_record_value")],
            ttl=VALIDATION_RECORD_TTL_SECONDS,
            allow_overwrite=True,
        )
        validation = AcmCertificateValidation(
            self,
            "validation-complete",
            certificate_arn=self.certificate.arn,
            validation_record_fqdns=Token.as_list(TerraformIterator.from_resources(records).pluck_property("fqdn")),
        )
        self.certificate_arn: str = validation.certificate_arn

    def _option(self, attribute: str) -> str:
        """`attribute` of the validation option ACM gives for the record's name (`each.key`)."""
        options = f"aws_acm_certificate.{self.certificate.friendly_unique_id}.domain_validation_options"
        return f"${{one([for o in {options} : o.{attribute} if o.domain_name == each.key])}}"


class RegionalCustomDomain(Construct):
    """A REGIONAL API Gateway custom domain with the base path mapping `<base_path>` -> the API's stage.

    Exposes `domain` (`regional_domain_name`, `regional_zone_id`: the alias target of its records) and `mapping`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain_name: str,
        certificate_arn: str,
        api_id: str,
        stage_name: str,
        base_path: str,
        name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.domain = ApiGatewayDomainName(
            self,
            "domain",
            domain_name=domain_name,
            regional_certificate_arn=certificate_arn,
            endpoint_configuration=ApiGatewayDomainNameEndpointConfiguration(types=["REGIONAL"]),
            security_policy=SECURITY_POLICY,
            tags={"Name": name},
        )
        self.mapping = ApiGatewayBasePathMapping(
            self,
            "mapping",
            domain_name=self.domain.domain_name,
            api_id=api_id,
            stage_name=stage_name,
            base_path=base_path,
        )
