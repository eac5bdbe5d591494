"""The settings matrix: every pair of documented setting values in at least one synthesized stack.

The docs document auth x apiType x rdsProxy x createDatabase x snapStart x architecture x corsOrigins,
deployed to any region, for routes with background work (schedules, queues) and without. The full
product is 4*2*2*2*2*2*3*2 = 1536 stacks per region, minus the invalid ones: hours of synth and lint on
CI's two cores. Most deploy failures come from one setting or from two
settings meeting (a proxy and a created cluster; an architecture and a region), so the matrix covers every
valid PAIR of values, regions included, in a few dozen stacks (a pairwise covering set).

The covering set is built here, greedily and deterministically, rather than by a library: it is thirty
lines, the test checks its coverage itself, and the combinations it picks never change under a package
upgrade.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any

# The values of each documented setting; regions: one where CDK knows the secrets extension for both
# architectures, one for x86_64 only, and one for neither.
FACTORS: dict[str, tuple[Any, ...]] = {
    "auth": ("none", "iam", "cognito", "jwt"),
    "apiType": ("rest", "http"),
    "rdsProxy": (False, True),
    "createDatabase": (False, True),
    "snapStart": (False, True),
    "architecture": ("x86_64", "arm64"),
    "corsOrigins": ("none", "one", "several"),
    "region": ("us-east-1", "eu-central-2", "ca-west-1"),
    # Routes with background work (a job, two queue consumers) or without.
    "background": (False, True),
}

Row = dict[str, Any]


def valid(row: Mapping[str, Any]) -> bool:
    """The combinations the configuration accepts (the others are refused at synth, and tested as such)."""
    if row.get("auth") == "jwt" and row.get("apiType") == "rest":
        return False  # a REST API has no JWT authorizer
    if row.get("corsOrigins") == "several" and row.get("apiType") == "rest":
        return False  # a REST preflight answers with one origin
    return True


def _all_rows() -> list[Row]:
    names = list(FACTORS)
    rows = (dict(zip(names, values, strict=True)) for values in itertools.product(*FACTORS.values()))
    return [row for row in rows if valid(row)]


def pairs(row: Mapping[str, Any]) -> Iterator[tuple[tuple[str, Any], tuple[str, Any]]]:
    """Every pair of (setting, value) in the row."""
    return itertools.combinations(sorted(row.items(), key=lambda item: list(FACTORS).index(item[0])), 2)


def wanted_pairs() -> set[tuple[tuple[str, Any], tuple[str, Any]]]:
    """Every pair of values that some valid stack holds."""
    return {pair for row in _all_rows() for pair in pairs(row)}


def covering_rows() -> list[Row]:
    """Rows until every wanted pair is in one: each time the row that covers most pairs still missing."""
    candidates = _all_rows()
    missing = wanted_pairs()
    chosen: list[Row] = []
    while missing:
        best = max(candidates, key=lambda row: len(missing.intersection(pairs(row))))
        chosen.append(best)
        missing.difference_update(pairs(best))
    return chosen


ACCOUNT = "123456789012"
SUBNETS = {
    "vpcId": "vpc-0123456789abcdef0",
    "privateSubnetIds": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
    "availabilityZones": ["az-a", "az-b"],
}


def own_database(region: str) -> dict[str, Any]:
    """Your database as docs/deploy.md describes it: secret, host, security group and, for a proxy, its cluster."""
    return {
        "dbSecretArn": f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:students-db-AbC123",
        "dbHost": f"students.cluster-abc.{region}.rds.amazonaws.com",
        "dbName": "students",
        "dbSecurityGroupId": "sg-0db0db0db0db0db00",
        "dbClusterIdentifier": "students",
        "dbMaxConnections": 400,
    }


def context(row: Mapping[str, Any], service_name: str) -> dict[str, Any]:
    """The cdk.json context of one stack of the matrix (on top of the project's own)."""
    settings: dict[str, Any] = {
        "serviceName": service_name,
        "account": ACCOUNT,
        "region": row["region"],
        "auth": row["auth"],
        "apiType": row["apiType"],
        "rdsProxy": row["rdsProxy"],
        "createDatabase": row["createDatabase"],
        "snapStart": row["snapStart"],
        "architecture": row["architecture"],
        "corsOrigins": {
            "none": [],
            "one": ["https://app.example"],
            "several": ["https://a.example", "https://b.example"],
        }[row["corsOrigins"]],
        **SUBNETS,
    }
    if not row["createDatabase"]:
        settings.update(own_database(row["region"]))
    if row["auth"] == "jwt":
        settings.update(jwtIssuer="https://id.example.com", jwtAudience=["app-client"])
    return settings
