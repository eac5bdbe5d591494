"""Network: the existing VPC, the Lambda's own security group, the optional Secrets Manager endpoint."""

from __future__ import annotations

from aws_cdk import Annotations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.config import Config

# Offline synth (no account): ids that cannot exist, so a template built from them cannot deploy.
PLACEHOLDER_VPC = "vpc-00000000000000000"
PLACEHOLDER_SUBNETS = ("subnet-00000000000000001", "subnet-00000000000000002")
PLACEHOLDER_AZS = ("placeholder-az-a", "placeholder-az-b")
PLACEHOLDER_CIDR = "10.0.0.0/16"


class Network(Construct):
    """Where the function runs: private subnets of an existing VPC, with egress it actually needs."""

    def __init__(self, scope: Construct, construct_id: str, *, config: Config) -> None:
        super().__init__(scope, construct_id)
        self.vpc = _vpc(self, config)
        # Subnets given by id come without their route tables, which nothing here reads.
        Annotations.of(self).acknowledge_warning(
            "@aws-cdk/aws-ec2:noSubnetRouteTableId", "the stack places the function in the subnets, no routes"
        )
        self.subnets = ec2.SubnetSelection(subnets=self.vpc.private_subnets or self.vpc.isolated_subnets)
        self.function_sg = ec2.SecurityGroup(
            self,
            "FunctionSecurityGroup",
            vpc=self.vpc,
            description=f"{config.stack_name} Lambda: egress to the database (and AWS APIs) only",
            allow_all_outbound=False,
        )
        if config.secrets_manager_endpoint:
            endpoint_sg = ec2.SecurityGroup(
                self,
                "SecretsManagerEndpointSecurityGroup",
                vpc=self.vpc,
                description=f"{config.stack_name} Secrets Manager endpoint: HTTPS from the Lambda",
                allow_all_outbound=False,
            )
            self.secrets_endpoint = ec2.InterfaceVpcEndpoint(
                self,
                "SecretsManagerEndpoint",
                vpc=self.vpc,
                service=ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
                subnets=self.subnets,
                private_dns_enabled=True,
                open=False,
                security_groups=[endpoint_sg],
            )
            self.function_sg.connections.allow_to(
                endpoint_sg,
                ec2.Port.tcp(443),
                "Secrets Manager through the VPC endpoint",
            )
        else:
            # The public Secrets Manager endpoint is reached through the VPC's NAT; its addresses
            # are not published as a prefix list, so HTTPS to anywhere is the narrowest rule.
            self.function_sg.add_egress_rule(
                ec2.Peer.any_ipv4(),
                ec2.Port.tcp(443),
                "Secrets Manager API through the NAT",
            )
            if not self.vpc.private_subnets and not config.offline:
                Annotations.of(self).add_warning_v2(
                    "infra:isolated-subnets",
                    "the Lambda runs in isolated subnets without a NAT: set"
                    " secretsManagerEndpoint=true or it cannot read its secret",
                )


def _vpc(scope: Construct, config: Config) -> ec2.IVpc:
    if config.vpc_id and config.private_subnet_ids:
        return ec2.Vpc.from_vpc_attributes(
            scope,
            "Vpc",
            vpc_id=config.vpc_id,
            private_subnet_ids=list(config.private_subnet_ids),
            availability_zones=list(config.availability_zones or _az_names(config)),
            vpc_cidr_block=config.vpc_cidr or (PLACEHOLDER_CIDR if config.offline else None),
        )
    if config.offline:
        Annotations.of(scope).add_warning_v2(
            "infra:placeholder-vpc",
            "no account: the VPC is a placeholder and this template cannot be deployed;"
            " see docs/deploy.md (vpcId/privateSubnetIds, or credentials for the lookup)",
        )
        return ec2.Vpc.from_vpc_attributes(
            scope,
            "Vpc",
            vpc_id=config.vpc_id or PLACEHOLDER_VPC,
            private_subnet_ids=list(PLACEHOLDER_SUBNETS),
            availability_zones=list(PLACEHOLDER_AZS),
            vpc_cidr_block=config.vpc_cidr or PLACEHOLDER_CIDR,
        )
    vpc_id = config.vpc_id or ssm.StringParameter.value_from_lookup(scope, config.vpc_id_parameter)
    return ec2.Vpc.from_lookup(scope, "Vpc", vpc_id=vpc_id)


def _az_names(config: Config) -> list[str]:
    """Only used for ids given without AZs; the names matter to CDK, not to CloudFormation."""
    return [f"az-{index}" for index, _ in enumerate(config.private_subnet_ids)]
