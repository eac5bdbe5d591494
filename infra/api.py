"""REST (API Gateway v1, default) or HTTP (v2) API defined from the routes' OpenAPI document (gateway profile)."""

from __future__ import annotations

from aws_cdk import ArnFormat, CfnOutput, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.config import Config
from infra.log_groups import retained_log_group
from infra.nag import acknowledge, acknowledge_checkov
from lambdakit.openapi import Access, gateway_document
from lambdakit.routemodel import RouteTable

_ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "path": "$context.path",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
}


class Api(Construct):
    """One API in front of the function, with a single invoke permission scoped to that API."""

    url: str

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: Config,
        routes: RouteTable,
        function: lambda_.IFunction,
        access: Access,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.access_logs = retained_log_group(self, "AccessLogs", config)
        uri = (
            f"arn:{stack.partition}:apigateway:{stack.region}:lambda:path/2015-03-31/functions/"
            f"{function.function_arn}/invocations"
        )
        document = gateway_document(
            routes,
            title=config.stack_name,
            integration_uri=uri,
            flavor=config.api_type,
            cors_origins=config.cors_origins,
            access=access,
        )
        if config.api_type == "http":
            api_id = self._http_api(config, document)
        else:
            api_id = self._rest_api(config, document)
        # One permission for every method and stage of this API: a statement per method would
        # overflow the function's 20 KB resource policy at about 30 routes.
        function.add_permission(
            "ApiInvoke",
            principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
            action="lambda:InvokeFunction",
            source_arn=stack.format_arn(
                service="execute-api",
                resource=api_id,
                resource_name="*",
                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            ),
        )

    def _rest_api(self, config: Config, document: dict) -> str:
        api = apigw.SpecRestApi(
            self,
            "RestApi",
            api_definition=apigw.ApiDefinition.from_inline(document),
            rest_api_name=config.stack_name,
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # One per account and region, shared by every REST API there: created only when asked.
            cloud_watch_role=bool(config.api_gateway_cloud_watch_role),
            deploy_options=apigw.StageOptions(
                stage_name=config.stage,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.custom(_json(_ACCESS_LOG_FIELDS)),
                throttling_rate_limit=config.throttling_rate_limit,
                throttling_burst_limit=config.throttling_burst_limit,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                tracing_enabled=True,
            ),
        )
        self.rest_api = api
        self.url = api.url
        # Execution logs (level ERROR) go to a group API Gateway would create itself, with no retention, and
        # leave behind; created here first, it has the stage's retention and goes with the stack.
        execution_logs = retained_log_group(
            self, "ExecutionLogs", config, f"API-Gateway-Execution-Logs_{api.rest_api_id}/{config.stage}"
        )
        api.deployment_stage.node.add_dependency(execution_logs)
        acknowledge(
            api,
            "AwsSolutions-APIG2",
            "Requests are validated by the function (fastjsonschema), so an invalid body gets the"
            " same 400 JSON naming the field locally and deployed.",
        )
        acknowledge_checkov(
            api.deployment_stage,
            "CKV_AWS_120",
            "Answers come from the database per caller and change with every write; a stage cache would serve"
            " stale or another caller's rows, and it is billed per hour whether used or not.",
        )
        acknowledge(
            api.deployment_stage,
            "AwsSolutions-APIG3",
            "AWS WAF costs a fixed monthly fee per web ACL; stage throttling limits are the default"
            " protection of this template, attach a web ACL for internet-facing production.",
        )
        if config.auth == "none":
            # Only a stack that says auth=none gets here; a prod stage also has to say publicApi=true.
            for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
                acknowledge(
                    api,
                    rule,
                    "This stage is public by its configuration (auth=none); set auth to cognito or iam"
                    " and every operation but those declared auth='none' carries an authorizer.",
                )
        if config.api_keys:
            self._usage_plan(config, api)
        if config.api_gateway_cloud_watch_role:
            acknowledge(
                api,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
                "The account-level role API Gateway needs to write access and error logs is the one"
                " AWS documents with this managed policy; it names no resource of ours.",
            )
        return api.rest_api_id

    def _usage_plan(self, config: Config, api: apigw.SpecRestApi) -> None:
        """One API key in a usage plan with the stage's throttling (add keys and plans per client as you need)."""
        key = apigw.ApiKey(self, "ApiKey", description=f"{config.stack_name}: send as x-api-key")
        plan = apigw.UsagePlan(
            self,
            "UsagePlan",
            name=config.stack_name,
            throttle=apigw.ThrottleSettings(
                rate_limit=config.throttling_rate_limit, burst_limit=config.throttling_burst_limit
            ),
            api_stages=[apigw.UsagePlanPerApiStage(api=api, stage=api.deployment_stage)],
        )
        plan.add_api_key(key)
        CfnOutput(Stack.of(self), "ApiKeyId", value=key.key_id)

    def _http_api(self, config: Config, document: dict) -> str:
        api = apigwv2.CfnApi(self, "HttpApi", body=document, fail_on_warnings=True)
        stage = apigwv2.CfnStage(
            self,
            "HttpStage",
            api_id=api.ref,
            stage_name=config.stage,
            auto_deploy=True,
            access_log_settings=apigwv2.CfnStage.AccessLogSettingsProperty(
                destination_arn=self.access_logs.log_group_arn,
                format=_json({**_ACCESS_LOG_FIELDS, "path": "$context.path"}),
            ),
            default_route_settings=apigwv2.CfnStage.RouteSettingsProperty(
                throttling_rate_limit=config.throttling_rate_limit,
                throttling_burst_limit=config.throttling_burst_limit,
            ),
        )
        self.http_api = api
        stack = Stack.of(self)
        self.url = f"https://{api.ref}.execute-api.{stack.region}.{stack.url_suffix}/{stage.stage_name}/"
        return api.ref


def _json(fields: dict[str, str]) -> str:
    """Access log line as JSON; numbers unquoted so Logs Insights can compare them."""
    numeric = {"status", "responseLength", "integrationLatency"}
    parts = [f'"{k}":{v}' if k in numeric else f'"{k}":"{v}"' for k, v in fields.items()]
    return "{" + ",".join(parts) + "}"
