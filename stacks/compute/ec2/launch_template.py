"""The processor instances' launch template and the user data that installs and starts the service.

Amazon Linux 2023 (its latest AMI, from AWS's public SSM parameter), IMDSv2 only with a hop limit of 1 (a
container or forwarded request on the instance cannot reach the instance's credentials), an encrypted gp3 root
volume (the region key), detailed monitoring, no SSH key (operators use Session Manager).

The user data installs Python (the version the functions run on), copies the artifact from the artifacts
bucket, unzips it to `INSTALL_DIR`, writes `ENVIRONMENT_FILE` (`shared.processor_runtime.environment_heredoc`:
names and ARNs only, never a secret value) and starts `SERVICE_NAME` as a hardened systemd unit. It names the
artifact's key, so new code is a new template version (and an instance refresh of the fleet).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_ssm_parameter import DataAwsSsmParameter
from cdktf_cdktf_provider_aws.launch_template import (
    LaunchTemplate,
    LaunchTemplateBlockDeviceMappings,
    LaunchTemplateBlockDeviceMappingsEbs,
    LaunchTemplateIamInstanceProfile,
    LaunchTemplateMetadataOptions,
    LaunchTemplateMonitoring,
    LaunchTemplateTagSpecifications,
)
from constructs import Construct

from shared.checkov import skip
from shared.processor_runtime import ENVIRONMENT_FILE, INSTALL_DIR, SERVICE_NAME, environment_heredoc
from stacks.compute.lambda_function import RUNTIME

AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
ROOT_DEVICE = "/dev/xvda"  # Amazon Linux 2023's root device name
ROOT_VOLUME_GIB = 20
METADATA_HOP_LIMIT = 1
# Amazon Linux 2023 packages the same Python the functions run on (`python3.12`).
PYTHON = f"/usr/bin/{RUNTIME}"
SERVICE_MODULE = "lambda_src.payment_server"
# What the unit may not do: it writes nothing on disk (logs go to the journal) and gains no privileges.
UNIT = f"""[Unit]
Description=Payments API: the payment processor service
Wants=network-online.target
After=network-online.target

[Service]
EnvironmentFile={ENVIRONMENT_FILE}
Environment=PYTHONDONTWRITEBYTECODE=1
WorkingDirectory={INSTALL_DIR}
ExecStart={PYTHON} -m {SERVICE_MODULE}
Restart=always
RestartSec=2
KillSignal=SIGTERM
TimeoutStopSec=30
DynamicUser=yes
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes

[Install]
WantedBy=multi-user.target
"""


# How cdktf writes an unresolved reference inside a Python string.
_TOKEN = re.compile(r"(\$\{TfToken\[[^\]]+\]\})")


def _terraform_string(text: str) -> str:
    """`text` as a Terraform expression: its literal parts quoted as they are (quotes, newlines, `$`), its
    references (tokens) kept as references."""
    parts = [part if _TOKEN.fullmatch(part) else Fn.raw_string(part) for part in _TOKEN.split(text) if part]
    return Fn.join("", parts)


def user_data(*, environment: Mapping[str, str], artifact_bucket: str, artifact_key: str, region: str) -> str:
    """The instance's first-boot script (bash). Values may be Terraform references (resolved at apply)."""
    return (
        "#!/bin/bash\n"
        "set -euo pipefail\n"
        f"dnf install -y {RUNTIME} unzip\n"
        f"aws s3 cp --region {region} s3://{artifact_bucket}/{artifact_key} /tmp/processor.zip\n"
        f"rm -rf {INSTALL_DIR} && mkdir -p {INSTALL_DIR}\n"
        f"unzip -q /tmp/processor.zip -d {INSTALL_DIR} && rm -f /tmp/processor.zip\n"
        f"mkdir -p {ENVIRONMENT_FILE.rsplit('/', 1)[0]}\n"
        "umask 077\n"
        f"{environment_heredoc(environment)}"
        f"cat > /etc/systemd/system/{SERVICE_NAME}.service <<'UNIT'\n"
        f"{UNIT}"
        "UNIT\n"
        "systemctl daemon-reload\n"
        f"systemctl enable --now {SERVICE_NAME}\n"
    )


class ProcessorLaunchTemplate(Construct):
    """Exposes `template` (`id`, `latest_version`) and `user_data` (the script, before base64)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        instance_type: str,
        instance_profile_arn: str,
        security_group_ids: list[str],
        kms_key_arn: str,
        user_data_script: str,
        tags: Mapping[str, str],
        ignore_changes: list[str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        ami = DataAwsSsmParameter(self, "ami", name=AMI_PARAMETER)
        self.user_data = user_data_script
        self.template = LaunchTemplate(
            self,
            "template",
            name=name,
            description="Payment processor instances",
            image_id=ami.value,
            instance_type=instance_type,
            update_default_version=True,
            iam_instance_profile=LaunchTemplateIamInstanceProfile(arn=instance_profile_arn),
            vpc_security_group_ids=security_group_ids,
            metadata_options=LaunchTemplateMetadataOptions(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=METADATA_HOP_LIMIT,
            ),
            monitoring=LaunchTemplateMonitoring(enabled=True),
            block_device_mappings=[
                LaunchTemplateBlockDeviceMappings(
                    device_name=ROOT_DEVICE,
                    ebs=LaunchTemplateBlockDeviceMappingsEbs(
                        volume_type="gp3",
                        volume_size=ROOT_VOLUME_GIB,
                        encrypted="true",
                        kms_key_id=kms_key_arn,
                        delete_on_termination="true",
                    ),
                )
            ],
            tag_specifications=[
                LaunchTemplateTagSpecifications(resource_type=kind, tags={**tags, "Name": name})
                for kind in ("instance", "volume")
            ],
            user_data=Fn.base64encode(_terraform_string(user_data_script)),
            lifecycle=TerraformResourceLifecycle(ignore_changes=ignore_changes) if ignore_changes else None,
        )
        skip(
            self.template,
            "CKV_AWS_46",
            "the user data holds names and ARNs only: API_KEY_SECRET_NAME names the secret, whose values the service "
            "reads from Secrets Manager at run time",
        )
