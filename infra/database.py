"""Database: where the function connects and which one secret it may read.

Three sources, one shape (host, port, name, secret, security group): your own database given by
context/env, one imported from another stack's exports, or an Aurora Serverless v2 cluster
created here (`createDatabase=true`). An RDS Proxy can sit in front of any of them.
"""

from __future__ import annotations

import math
import re

from aws_cdk import (
    Annotations,
    ArnFormat,
    Duration,
    Fn,
    RemovalPolicy,
    Stack,
)
from aws_cdk import (
    aws_ec2 as ec2,
)
from aws_cdk import (
    aws_iam as iam,
)
from aws_cdk import (
    aws_kms as kms,
)
from aws_cdk import (
    aws_rds as rds,
)
from aws_cdk import (
    aws_secretsmanager as sm,
)
from constructs import Construct

from infra.budget import connection_budget
from infra.config import Config
from infra.log_groups import retained_log_group
from infra.nag import acknowledge, acknowledge_checkov
from infra.network import Network

# The user of the generated secret (createDatabase); the proxy logs in as it for IAM-authenticated clients too.
CREATED_DATABASE_USER = "app_admin"
_COMPLETE_SECRET_ARN = re.compile(r"^arn:[^:]+:secretsmanager:[^:]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$")


class Database(Construct):
    """Connection settings for the function and the security group rules that let it connect."""

    def __init__(self, scope: Construct, construct_id: str, *, config: Config, network: Network) -> None:
        super().__init__(scope, construct_id)
        self.port = config.db_port
        self.name: str | None = config.db_name
        # The database user the function logs in as, when it signs IAM tokens instead of reading the secret.
        self.user: str | None = config.db_user
        self.security_group: ec2.ISecurityGroup | None = None
        self.secret_key: kms.IKey | None = None
        self.cluster: rds.IDatabaseCluster | None = None
        self.instance: rds.IDatabaseInstance | None = None
        if config.create_database:
            self._create_cluster(config, network)
        elif config.db_stack_name:
            self._import_from_stack(config)
        elif config.db_secret_arn:
            self._given(config)
        else:
            self._placeholder(config)
        if not config.create_database:
            self._import_identified(config)
        self.proxy: rds.DatabaseProxy | None = None
        if config.rds_proxy:
            self._add_proxy(config, network)
        self._allow_function(network)

    def _create_cluster(self, config: Config, network: Network) -> None:
        self.port = 5432
        self.name = config.db_name or "app"
        identifier = f"{config.stack_name}-db".lower()
        # Created before the cluster so RDS writes into a group that has a retention.
        log_group = retained_log_group(self, "PostgresqlLogs", config, f"/aws/rds/cluster/{identifier}/postgresql")
        cluster = rds.DatabaseCluster(
            self,
            "Cluster",
            cluster_identifier=identifier,
            engine=rds.DatabaseClusterEngine.aurora_postgres(
                # 16.3+ is required for a minimum capacity of 0 (auto-pause).
                version=rds.AuroraPostgresEngineVersion.VER_16_6
            ),
            writer=rds.ClusterInstance.serverless_v2("Writer"),
            serverless_v2_min_capacity=config.db_min_capacity,
            serverless_v2_max_capacity=config.db_max_capacity,
            vpc=network.vpc,
            vpc_subnets=network.subnets,
            credentials=rds.Credentials.from_generated_secret(CREATED_DATABASE_USER),
            default_database_name=self.name,
            storage_encrypted=True,
            iam_authentication=True,
            deletion_protection=config.db_deletion_protection,
            removal_policy=RemovalPolicy.SNAPSHOT,
            backup=rds.BackupProps(retention=Duration.days(7)),
            cloudwatch_logs_exports=["postgresql"],
        )
        cluster.node.add_dependency(log_group)
        acknowledge_checkov(
            cluster.node.find_child("Secret"),
            "CKV_AWS_149",
            "The generated secret is encrypted with Secrets Manager's AWS managed key; a customer-managed key adds"
            " a monthly fee and a decrypt grant to every reader (give your own secret and dbSecretKmsKeyArn for one).",
        )
        acknowledge_checkov(
            cluster.node.find_child("Writer"),
            "CKV_AWS_118",
            "Enhanced Monitoring adds OS metrics at the price of CloudWatch Logs ingestion and a monitoring role;"
            " the dashboard's CPU, connections, capacity and freeable memory alarms watch the cluster already.",
        )
        acknowledge(
            cluster,
            "AwsSolutions-RDS11",
            "The default port 5432 is kept: a non-default port hides nothing from a scanner, and"
            " only the Lambda (or proxy) security group may reach the cluster at all.",
        )
        acknowledge(
            cluster,
            "AwsSolutions-SMG4",
            "Rotation is left to the owner: it needs a rotation Lambda with its own network path;"
            " the function re-reads the secret when a login fails, so rotation can be enabled later.",
        )
        if not config.db_deletion_protection:
            acknowledge(
                cluster,
                "AwsSolutions-RDS10",
                "dbDeletionProtection=false was chosen explicitly for this stage (a throwaway"
                " database); the cluster still leaves a snapshot when it is deleted.",
            )
        self.cluster = cluster
        self.user = CREATED_DATABASE_USER
        self.secret: sm.ISecret = cluster.secret
        self.host = cluster.cluster_endpoint.hostname
        self.security_group = cluster.connections.security_groups[0]

    def _import_from_stack(self, config: Config) -> None:
        prefix = config.db_stack_name
        self.host = Fn.import_value(f"{prefix}-Host")
        self.name = config.db_name or Fn.import_value(f"{prefix}-Name")
        self.secret = self._secret(config, complete_arn=Fn.import_value(f"{prefix}-SecretArn"))
        self.security_group = ec2.SecurityGroup.from_security_group_id(
            self, "DatabaseSecurityGroup", Fn.import_value(f"{prefix}-AppSGId")
        )

    def _given(self, config: Config) -> None:
        arn = config.db_secret_arn or ""
        if _COMPLETE_SECRET_ARN.match(arn):
            self.secret = self._secret(config, complete_arn=arn)
        else:
            # A name-only ARN can only be granted as `name-??????`, which matches any suffix.
            Annotations.of(self).add_warning_v2(
                "infra:partial-secret-arn",
                "dbSecretArn has no 6-character suffix; the grant covers name-?????? - give the"
                " complete ARN to scope it to exactly one secret",
            )
            self.secret = self._secret(config, partial_arn=arn)
        self.host = config.db_host or ""
        if config.db_security_group_id:
            self.security_group = ec2.SecurityGroup.from_security_group_id(
                self, "DatabaseSecurityGroup", config.db_security_group_id
            )

    def _secret(self, config: Config, *, complete_arn: str | None = None, partial_arn: str | None = None) -> sm.ISecret:
        """Your secret, and the KMS key it is encrypted with when that is a key of yours."""
        if config.db_secret_kms_key_arn:
            self.secret_key = kms.Key.from_key_arn(self, "SecretKey", config.db_secret_kms_key_arn)
        return sm.Secret.from_secret_attributes(
            self,
            "Secret",
            secret_complete_arn=complete_arn,
            secret_partial_arn=partial_arn,
            encryption_key=self.secret_key,
        )

    def grant_secret(self, grantee: iam.IGrantable) -> None:
        """Read the one secret; with your own KMS key, decrypt with it too, only through Secrets Manager.

        A secret under a customer-managed key cannot be read with secretsmanager:GetSecretValue alone.
        """
        self.secret.grant_read(grantee)
        if self.secret_key is not None:
            region = Stack.of(self).region
            grantee.grant_principal.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["kms:Decrypt"],
                    resources=[self.secret_key.key_arn],
                    conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}},
                )
            )

    def _placeholder(self, config: Config) -> None:
        Annotations.of(self).add_warning_v2(
            "infra:placeholder-database",
            "no database configured: placeholder host and secret; set createDatabase=true,"
            " dbStackName, or dbSecretArn + dbHost (docs/deploy.md)",
        )
        arn = Stack.of(self).format_arn(
            service="secretsmanager",
            resource="secret",
            resource_name="placeholder-db-credentials-AbCdEf",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.secret = sm.Secret.from_secret_complete_arn(self, "Secret", arn)
        self.host = "placeholder-database.invalid"

    def _import_identified(self, config: Config) -> None:
        """Your cluster or instance, when named: the proxy's target and the alarms' dimensions."""
        if config.db_cluster_identifier:
            self.cluster = rds.DatabaseCluster.from_database_cluster_attributes(
                self,
                "ImportedCluster",
                cluster_identifier=config.db_cluster_identifier,
                engine=rds.DatabaseClusterEngine.AURORA_POSTGRESQL,
                port=self.port,
                security_groups=[self.security_group] if self.security_group else None,
            )
        elif config.db_instance_identifier:
            self.instance = rds.DatabaseInstance.from_database_instance_attributes(
                self,
                "ImportedInstance",
                instance_identifier=config.db_instance_identifier,
                instance_endpoint_address=self.host,
                port=self.port,
                security_groups=[self.security_group] if self.security_group else [],
                engine=rds.DatabaseInstanceEngine.POSTGRES,
            )

    def _add_proxy(self, config: Config, network: Network) -> None:
        target = (
            rds.ProxyTarget.from_cluster(self.cluster)
            if self.cluster is not None
            else rds.ProxyTarget.from_instance(self.instance)
        )
        proxy_sg = ec2.SecurityGroup(
            self,
            "ProxySecurityGroup",
            vpc=network.vpc,
            description=f"{config.stack_name} RDS Proxy: from the Lambda, to the database",
            allow_all_outbound=False,
        )
        budget = connection_budget(config)
        self.proxy = rds.DatabaseProxy(
            self,
            "Proxy",
            proxy_target=target,
            secrets=[self.secret],
            vpc=network.vpc,
            vpc_subnets=network.subnets,
            security_groups=[proxy_sg],
            require_tls=True,
            idle_client_timeout=Duration.minutes(30),
            # The pool may take the function's share of the connection budget, and no more.
            max_connections_percent=budget.proxy_percent if budget else None,
            # A request waiting for a pooled connection gives up within the function's connect budget, so
            # it ends as the function's own 503, not as a Lambda timeout (the proxy's default is 120 s).
            borrow_timeout=Duration.seconds(math.ceil(config.db_connect_timeout + config.db_connect_retry_seconds)),
            iam_auth=config.db_iam_auth,
        )
        acknowledge(
            self.proxy.node.find_child("ProxyTargetGroup"),
            "CloudFormation-Validate::F3002",
            "CDK's copy of the resource schema predates Tags on AWS::RDS::DBProxyTargetGroup; the"
            " current schema (cfn-lint's, from the CloudFormation registry) accepts them.",
        )
        if budget is None:
            Annotations.of(self).add_warning_v2(
                "infra:proxy-pool-unsized",
                "rdsProxy without dbMaxConnections: the proxy's pool may use every connection of your database;"
                " set dbMaxConnections to its max_connections to leave room for migrations and humans",
            )
        if self.security_group is None:
            # With the database's security group known, the proxy target's bind has already admitted the
            # proxy on it (ingress there, egress here); the same rule twice is refused by EC2 as a duplicate.
            self._allow(proxy_sg, None, network, "RDS Proxy to the database")
        self.host = self.proxy.endpoint
        # The function now talks to the proxy, never to the database directly.
        self.security_group = proxy_sg

    def _allow_function(self, network: Network) -> None:
        self._allow(network.function_sg, self.security_group, network, "Lambda to PostgreSQL")

    def _allow(
        self,
        source: ec2.ISecurityGroup,
        target: ec2.ISecurityGroup | None,
        network: Network,
        description: str,
    ) -> None:
        port = ec2.Port.tcp(self.port)
        if target is not None:
            # Adds the egress on the source and the ingress on the target, nothing wider.
            source.connections.allow_to(target, port, description)
        else:
            Annotations.of(self).add_warning_v2(
                "infra:no-database-security-group",
                "no dbSecurityGroupId: egress to the database port is allowed to the VPC CIDR,"
                " and the database's own security group must admit the Lambda's",
            )
            source.add_egress_rule(ec2.Peer.ipv4(network.vpc.vpc_cidr_block), port, description)
