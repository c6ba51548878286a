"""The region's API keys: one `aws_api_gateway_api_key` per key in the API key secret, each under the usage plan.

The secret (`{"keys": {"<key id>": "<value>"}, "current": "<key id>"}`, written by `ops.keys`) is read in this
region: the secret itself in the primary, its replica in the secondary, so both regions accept the same values.
The resources are keyed by key id (`for_each`): a rotation adds a key (a new resource, the old one untouched) and
a retirement removes one, so a key is never replaced in place -- the provider replaces a key whose `value`
changes (ForceNew), which would leave the region without that key between the destroy and the create. Key ids
are not secret (`nonsensitive`, as `for_each` needs); the values stay sensitive in plan and state.
"""

from __future__ import annotations

from cdktf import Fn, TerraformIterator, Token
from cdktf_cdktf_provider_aws.api_gateway_api_key import ApiGatewayApiKey
from cdktf_cdktf_provider_aws.api_gateway_usage_plan_key import ApiGatewayUsagePlanKey
from cdktf_cdktf_provider_aws.data_aws_secretsmanager_secret_version import DataAwsSecretsmanagerSecretVersion
from constructs import Construct

from shared.naming import Naming


class ClientKeys(Construct):
    """Exposes `ids` (the key ids, a non-sensitive list expression), `api_keys` and `secret_name`."""

    def __init__(
        self, scope: Construct, construct_id: str, *, naming: Naming, secret_name: str, usage_plan_id: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.secret_name = secret_name
        secret = DataAwsSecretsmanagerSecretVersion(self, "secret", secret_id=secret_name)
        keys = Fn.lookup(Fn.jsondecode(secret.secret_string), "keys")
        self.ids = Fn.nonsensitive(Fn.keys(keys))
        each = TerraformIterator.from_list(Token.as_list(self.ids))
        key_id = Token.as_string(each.value)
        self.api_keys = ApiGatewayApiKey(
            self,
            "api-key",
            for_each=each,
            name=f"{naming.name('api-key')}-{key_id}",
            description="Payments API client key (value from the API key secret; make rotate-api-key)",
            enabled=True,
            value=Fn.lookup(keys, key_id),
        )
        # Keyed by the same ids (not by the keys themselves, whose sensitive values for_each would refuse).
        planned = TerraformIterator.from_list(Token.as_list(self.ids))
        ApiGatewayUsagePlanKey(
            self,
            "usage-plan-key",
            for_each=planned,
            key_id=f"${{{self.api_keys.fqn}[each.value].id}}",
            key_type="API_KEY",
            usage_plan_id=usage_plan_id,
        )
