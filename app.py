#!/usr/bin/env python3
"""CDK entry point: read the routes of src/lambda_function.py (without importing it) and build the stack.

The routes read are checked against what an import registers, in a separate process (infra/route_check.py).

Configuration comes from cdk.json context, `-c key=value` and STACK_* environment variables; see
infra/config.py and docs/configuration.md. The synthesized template then goes through the deploy check
(infra/deploy_check.py), so `make synth` and `make deploy` stop on what a deploy would refuse.
"""

import os
import sys

import aws_cdk as cdk

from infra.build import StalePackage
from infra.config import ConfigError, load_config
from infra.deploy_check import report
from infra.nag import add_checks
from infra.route_check import checked_routes
from infra.routes import RouteError
from infra.stack import ApiStack

app = cdk.App()
try:
    config = load_config(app.node.try_get_context, os.environ)
    routes = checked_routes(config.lambda_file)
    stack = ApiStack(app, config.stack_name, config=config, routes=routes)
except (ConfigError, RouteError, StalePackage) as error:
    # A message the user can act on, not a jsii stack trace.
    sys.exit(f"error: {error}")
add_checks(app)
sys.exit(report(app.synth().get_stack_by_name(stack.stack_name).template, config))
