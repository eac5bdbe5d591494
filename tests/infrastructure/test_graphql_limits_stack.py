"""The AppSync API carries a cost limit: QueryDepthLimit and ResolverCountLimit, from settings with defaults.

Without them AppSync allows any depth and 10,000 resolver invocations per request, and invokes the
function once per resolved field: one request of 20,000 aliases would be 10,000 billed invocations.
"""

from __future__ import annotations

import pytest
from infra_support import ACCOUNT, BYO_CONTEXT, synth, write_module

from infra.config import Config, ConfigError, load_config, settings


def test_the_synthesized_api_sets_the_default_depth_and_resolver_count(byo):
    api = byo.one("AWS::AppSync::GraphQLApi")["Properties"]
    assert api["QueryDepthLimit"] == Config.graphql_query_depth_limit == 15
    assert api["ResolverCountLimit"] == Config.graphql_resolver_count_limit == 200


def test_each_limit_is_a_setting_with_a_context_key_and_a_stack_variable(tmp_path):
    keys = settings()
    assert keys["graphqlQueryDepthLimit"].variable == "STACK_GRAPHQL_QUERY_DEPTH_LIMIT"
    assert keys["graphqlResolverCountLimit"].variable == "STACK_GRAPHQL_RESOLVER_COUNT_LIMIT"
    write_module(tmp_path)
    environ = {"STACK_GRAPHQL_QUERY_DEPTH_LIMIT": "6", "STACK_GRAPHQL_RESOLVER_COUNT_LIMIT": "50"}
    api = synth(tmp_path, {**BYO_CONTEXT, **ACCOUNT}, environ).one("AWS::AppSync::GraphQLApi")["Properties"]
    assert (api["QueryDepthLimit"], api["ResolverCountLimit"]) == (6, 50)


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("graphqlQueryDepthLimit", 0, "graphqlQueryDepthLimit: 1..75"),
        ("graphqlQueryDepthLimit", 76, "graphqlQueryDepthLimit: 1..75"),
        ("graphqlResolverCountLimit", 0, "graphqlResolverCountLimit: 1..10000"),
        ("graphqlResolverCountLimit", 10_001, "graphqlResolverCountLimit: 1..10000"),
    ],
)
def test_values_outside_appsyncs_ranges_stop_the_synth(key, value, problem):
    context = {key: value}
    with pytest.raises(ConfigError, match=problem):
        load_config(context.get, {})
