"""What a route is: one path grammar and one frozen record, read by every part of the template.

The runtime router registers into it, the stack's scanner (infra/routes.py) feeds it the literals it
reads with `ast`, both OpenAPI documents are written from its records and the local server asks it
which route a request is for. So a path, a parameter or a schema means the same thing at import, at
synth and on localhost. Standard library only: synth uses it where the Lambda's packages are absent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from lambdakit.claims import AMBIGUOUS_CHARACTERS
from lambdakit.names import camel_case, snake_case
from lambdakit.records import Factory, record

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_LITERAL = re.compile(r"[A-Za-z0-9._~-]+\Z")
_VARIABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}\Z")
_GRAPHQL_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*\Z")
_DIRECT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")

LITERAL, VARIABLE, GREEDY = 0, 1, 2

# The wire type of each parameter type the binding converts (by canonical name; see `annotation_type`).
TYPE_SCHEMAS: dict[str, dict[str, Any]] = {
    "int": {"type": "integer", "format": "int64", "minimum": -(2**63), "maximum": 2**63 - 1},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "str": {"type": "string"},
    "uuid": {"type": "string", "format": "uuid"},
    "object": {"type": "object"},
    "array": {"type": "array"},
    "any": {},
}
# Parameters the router fills itself (the caller and the request); never an API input.
INJECTED_TYPES = frozenset({"caller", "request"})
# What a route may say about who calls it (`auth=`): public, or SigV4 only; omitted, the stack's `auth` applies.
ROUTE_AUTH = ("none", "iam")
# The stack's `auth` settings: the default of every route the API serves.
AUTH_MODES = ("none", "iam", "cognito", "jwt")
_TYPE_NAMES = {
    "int": "int",
    "float": "float",
    "bool": "bool",
    "str": "str",
    "UUID": "uuid",
    "uuid.UUID": "uuid",
    "dict": "object",
    "Dict": "object",
    "typing.Dict": "object",
    "Mapping": "object",
    "list": "array",
    "List": "array",
    "typing.List": "array",
    "Sequence": "array",
    "Caller": "caller",
    "Request": "request",
}


class RouteError(ValueError):
    """A route that cannot be served or deployed; the message says where and why."""


# -- paths -------------------------------------------------------------------------------------------
@record(uncompared=("regex",))
class PathTemplate:
    """A parsed route path: its segments, parameter names, one regex, and its specificity."""

    text: str
    segments: tuple[tuple[int, str], ...]
    regex: re.Pattern[str]

    @property
    def parameters(self) -> tuple[str, ...]:
        """Path parameter names in order (`{path+}` gives `path`)."""
        return tuple(value for kind, value in self.segments if kind != LITERAL)

    @property
    def specificity(self) -> tuple[int, ...]:
        """Sort key: at each segment a literal beats a variable, which beats a greedy tail (API Gateway's rule)."""
        return tuple(kind for kind, _ in self.segments)

    def variable_positions(self) -> Iterable[tuple[str, str]]:
        """(parent path, variable segment as written) for each variable: API Gateway allows one per parent."""
        parent = ""
        for kind, value in self.segments:
            written = value if kind == LITERAL else "{" + value + ("+}" if kind == GREEDY else "}")
            if kind != LITERAL:
                yield parent or "/", written
            parent += "/" + written


def parse_path(text: str) -> PathTemplate:
    """Parse `/students/{studentId}` or `/files/{path+}`; RouteError says what is wrong."""
    if not isinstance(text, str) or not text.startswith("/"):
        raise RouteError(f"malformed path {text!r}: it must start with '/'")
    return _parse_path(text)


@lru_cache(maxsize=1024)
def _parse_path(text: str) -> PathTemplate:
    """Remembered: the runtime and the scanner build a record per route and decorator, and the path's
    regex is the dearest part of one."""
    if text == "/":
        return PathTemplate(text, (), re.compile(r"/\Z"))
    if text.endswith("/"):
        raise RouteError(f"malformed path {text!r}: no trailing '/'")
    segments: list[tuple[int, str]] = []
    parts = text[1:].split("/")
    for index, part in enumerate(parts):
        variable = _VARIABLE.match(part)
        if not part:
            raise RouteError(f"malformed path {text!r}: empty segment")
        if variable:
            name, greedy = variable.groups()
            if any(kind != LITERAL and value == name for kind, value in segments):
                raise RouteError(f"malformed path {text!r}: parameter {{{name}}} appears twice")
            if greedy and index != len(parts) - 1:
                raise RouteError(f"malformed path {text!r}: greedy {part} must be the last segment")
            segments.append((GREEDY if greedy else VARIABLE, name))
        elif _LITERAL.match(part):
            segments.append((LITERAL, part))
        else:
            raise RouteError(
                f"malformed path {text!r}: segment {part!r} is neither a literal (letters, digits, . _ ~ -)"
                " nor {param} nor a last {param+}"
            )
    pattern = "".join(
        "/" + (re.escape(value) if kind == LITERAL else f"(?P<{value}>{'.+' if kind == GREEDY else '[^/]+'})")
        for kind, value in segments
    )
    return PathTemplate(text, tuple(segments), re.compile(pattern + r"\Z"))


# -- parameters --------------------------------------------------------------------------------------
@record()
class Param:
    """One argument a route function takes from its inputs: by name, of a type, required or not."""

    name: str
    type: str = "any"
    items: str | None = None
    required: bool = True

    @property
    def api_name(self) -> str:
        """The name clients use (`body` stays `body`)."""
        return camel_case(self.name)

    @property
    def injected(self) -> bool:
        """Filled by the router (caller, request), not by the client."""
        return self.type in INJECTED_TYPES

    def schema(self, constraints: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The JSON Schema of this parameter's value, with the route's extra constraints."""
        schema = dict(TYPE_SCHEMAS.get(self.type, {}))
        if self.type == "array":
            schema["items"] = dict(TYPE_SCHEMAS.get(self.items or "any", {}))
        return {**schema, **(constraints or {})}


def annotation_type(text: str | None) -> tuple[str, str | None]:
    """Canonical (type, item type) of an annotation written as text: `int | None` -> ("int", None).

    The runtime reads the same text from the function (or renders its annotation object to it) and
    the scanner reads it from the source, so both derive the same type.
    """
    if not text:
        return "any", None
    text = text.strip().strip("'\"")
    text = re.sub(r"^(?:typing\.)?Optional\[(.*)\]$", r"\1", text)
    text = re.sub(r"^(?:typing\.)?Annotated\[([^,\]]+).*\]$", r"\1", text)
    members = [m.strip() for m in _split_union(text) if m.strip() not in ("None", "NoneType")]
    if len(members) != 1:
        return "any", None
    member = members[0]
    generic = re.match(r"^([\w.]+)\[(.*)\]$", member)
    if generic:
        base, inner = _TYPE_NAMES.get(generic.group(1), "any"), generic.group(2)
        if base == "array":
            return "array", annotation_type(inner)[0]
        return base, None
    base = _TYPE_NAMES.get(member, "any")
    return base, ("any" if base == "array" else None)


def _split_union(text: str) -> list[str]:
    union = re.match(r"^(?:typing\.)?Union\[(.*)\]$", text)
    if union:
        text = union.group(1).replace(",", "|")
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char == "["
        depth -= char == "]"
        if char == "|" and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


# -- route records -----------------------------------------------------------------------------------
@record()
class Spec:
    """What a route function declares besides where it is served: its inputs, schemas and docs.

    `body` and `response` are JSON Schemas written with the Python (snake_case) names; `params` adds
    constraints to a parameter's schema by Python name (`{"limit": {"minimum": 1}}`). The runtime
    enforces `body` and `params`; the documents show all three. `auth` overrides the stack's default
    ("none": public, "iam": SigV4 only); `groups` and `scopes` are what a caller needs, any one of each.
    """

    parameters: tuple[Param, ...] = ()
    accepts_any: bool = False
    body: Mapping[str, Any] | None = None
    response: Mapping[str, Any] | None = None
    params: Mapping[str, Mapping[str, Any]] = Factory(dict)
    summary: str = ""
    auth: str | None = None
    groups: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Written as lists on the decorator; tuples here, so runtime and scanner records compare equal.
        for name in ("groups", "scopes"):
            value = getattr(self, name)
            if isinstance(value, (list, tuple)):
                object.__setattr__(self, name, tuple(value))

    def parameter(self, name: str) -> Param | None:
        """The parameter of that Python name, if the function takes it."""
        return next((p for p in self.parameters if p.name == name), None)

    def access(self, default: str) -> str:
        """How a caller must authenticate for this route, given the stack's default mode."""
        return self.auth or default

    @property
    def restricted(self) -> bool:
        """Whether the route names groups or scopes a caller must hold."""
        return bool(self.groups or self.scopes)


@record(uncompared=("where",))
class RestRoute:
    """`@router.rest(method, path)`: an API Gateway method on a resource."""

    method: str
    path: PathTemplate
    function: str
    module: str = ""
    status: int = 200
    spec: Spec = Spec()
    where: str = ""

    @property
    def key(self) -> tuple[str, str]:
        """(method, path as written): unique within a table."""
        return self.method, self.path.text


@record(uncompared=("where",))
class GraphqlRoute:
    """`@router.graphql(type, field)`: an AppSync direct Lambda resolver."""

    type_name: str
    field: str
    function: str
    module: str = ""
    spec: Spec = Spec()
    where: str = ""

    @property
    def key(self) -> tuple[str, str]:
        """(type, field): unique within a table."""
        return self.type_name, self.field


@record(uncompared=("where",))
class DirectRoute:
    """`@router.direct(name)`: reached by `lambda invoke` only, never through an API."""

    name: str
    function: str
    module: str = ""
    spec: Spec = Spec()
    where: str = ""

    @property
    def key(self) -> str:
        """The name: unique within a table."""
        return self.name


@record(uncompared=("where",))
class ScheduledJob:
    """`@router.schedule(expression)`: a job EventBridge Scheduler starts on its timetable, by name.

    `expression` is `rate(...)` or `cron(...)` as EventBridge Scheduler reads it; `timezone` (IANA) is
    the one its cron fields are in (UTC when None).
    """

    name: str
    expression: str
    function: str
    module: str = ""
    timezone: str | None = None
    spec: Spec = Spec()
    where: str = ""

    @property
    def key(self) -> str:
        """The job's name: unique within a table."""
        return self.name


@record(uncompared=("where",))
class QueueConsumer:
    """`@router.queue(name)`: the consumer of one SQS queue, handed each message of a batch on its own.

    After `max_receives` failed deliveries a message moves to the queue's dead-letter queue.
    """

    queue: str
    function: str
    module: str = ""
    batch_size: int = 10
    max_receives: int = 5
    spec: Spec = Spec()
    where: str = ""

    @property
    def key(self) -> str:
        """The queue's name: unique within a table."""
        return self.queue


Route = RestRoute | GraphqlRoute | DirectRoute | ScheduledJob | QueueConsumer


def check_rest(method: Any, path: Any, status: Any = 200) -> tuple[str, PathTemplate]:
    """The method (upper case) and parsed path of a REST route; RouteError on an unknown method, bad path or status."""
    if not isinstance(method, str) or method.upper() not in HTTP_METHODS:
        raise RouteError(f"unknown HTTP method {method!r} (expected one of {', '.join(HTTP_METHODS)})")
    if not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 399:
        raise RouteError(f"status={status!r}: a success status is 200..399")
    return method.upper(), parse_path(path)


def rest_route(method: Any, path: Any, function: str, *, status: Any = 200, **rest: Any) -> RestRoute:
    """A checked RestRoute: method known, path well formed, status a 2xx/3xx code, every path parameter taken."""
    try:
        method, template = check_rest(method, path, status)
    except RouteError as exc:
        raise RouteError(f"{exc} on {function}()") from None
    route = RestRoute(method, template, function, status=status, **rest)
    for name in template.parameters:
        if not route.spec.accepts_any and route.spec.parameter(snake_case(name)) is None:
            raise RouteError(
                f"path {template.text} on {function}(): {{{name}}} needs a parameter {snake_case(name)} in the function"
            )
    _check_spec(route.spec, function)
    return route


def check_graphql(type_name: Any, field_name: Any) -> None:
    """RouteError unless both are GraphQL names."""
    for value in (type_name, field_name):
        if not isinstance(value, str) or not _GRAPHQL_NAME.match(value):
            raise RouteError(f"{value!r} is not a GraphQL name")


def check_direct(name: Any) -> None:
    """RouteError unless `name` is letters, digits, `_ . -`."""
    if not isinstance(name, str) or not _DIRECT_NAME.match(name):
        raise RouteError(f"{name!r} is not a valid direct route name")


def graphql_route(type_name: Any, field_name: Any, function: str, **rest: Any) -> GraphqlRoute:
    """A checked GraphqlRoute: both names are GraphQL names."""
    try:
        check_graphql(type_name, field_name)
    except RouteError as exc:
        raise RouteError(f"{exc} on {function}()") from None
    route = GraphqlRoute(type_name, field_name, function, **rest)
    _check_spec(route.spec, function)
    return route


def direct_route(name: Any, function: str, **rest: Any) -> DirectRoute:
    """A checked DirectRoute: a name of letters, digits, `_ . -`."""
    try:
        check_direct(name)
    except RouteError as exc:
        raise RouteError(f"{exc} on {function}()") from None
    route = DirectRoute(name, function, **rest)
    _check_spec(route.spec, function)
    return route


# -- background work --------------------------------------------------------------------------------
_QUEUE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,39}\Z")
_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)\Z")
_TIMEZONE = re.compile(r"[A-Za-z]+(?:[/_+-][A-Za-z0-9]+)*\Z")
_MONTHS = {name: str(n) for n, name in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), 1)}
_DAYS = {name: str(n) for n, name in enumerate("SUN MON TUE WED THU FRI SAT".split(), 1)}
# EventBridge's cron fields: name, lowest and highest value, names it accepts for values.
_CRON_FIELDS = (
    ("minutes", 0, 59, {}),
    ("hours", 0, 23, {}),
    ("day-of-month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 1, 7, _DAYS),
    ("year", 1970, 2199, {}),
)
BATCH_SIZES = range(1, 11)  # SQS's largest batch without a batching window
MAX_RECEIVES = range(1, 1001)  # what a redrive policy's maxReceiveCount takes


def check_schedule(expression: Any, timezone: Any = None) -> None:
    """RouteError unless `expression` is EventBridge Scheduler's `rate(...)` or `cron(...)`, `timezone` an IANA name."""
    if not isinstance(expression, str):
        raise RouteError(f"schedule {expression!r}: write rate(1 hour) or cron(0 3 * * ? *)")
    if timezone is not None and not (isinstance(timezone, str) and _TIMEZONE.match(timezone)):
        raise RouteError(f"timezone={timezone!r}: an IANA time zone such as Europe/Paris")
    rate = _RATE.match(expression)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2)
        if value < 1 or (value == 1) != (not unit.endswith("s")):
            raise RouteError(f"schedule {expression!r}: rate(1 hour), rate(2 hours): singular for 1 only, at least 1")
        if timezone is not None:
            raise RouteError(f"schedule {expression!r}: a rate runs by the clock it started on; timezone is for cron")
        return
    if expression.startswith("cron(") and expression.endswith(")"):
        problem = _cron_problem(expression[5:-1].split())
        if problem:
            raise RouteError(f"schedule {expression!r}: {problem}")
        return
    raise RouteError(f"schedule {expression!r}: write rate(1 hour) or cron(0 3 * * ? *), as EventBridge does")


def _cron_problem(fields: list[str]) -> str | None:
    if len(fields) != 6:
        return "six fields: minutes hours day-of-month month day-of-week year"
    if (fields[2] == "?") == (fields[4] == "?"):
        return "one of day-of-month and day-of-week must be ?, not both"
    for (name, low, high, names), text in zip(_CRON_FIELDS, fields, strict=True):
        if not all(_cron_item(item, name, low, high, names) for item in text.split(",")):
            return f"{name} {text!r} is not one EventBridge accepts"
    return None


def _cron_item(item: str, field: str, low: int, high: int, names: dict[str, str]) -> bool:
    def value(text: str) -> bool:
        text = names.get(text.upper(), text)
        return text.isdigit() and low <= int(text) <= high

    if item == "?":
        return field in ("day-of-month", "day-of-week")
    if field == "day-of-month" and (item in ("L", "LW") or (item.endswith("W") and value(item[:-1]))):
        return True
    if field == "day-of-week":
        if item == "L" or (item.endswith("L") and value(item[:-1])):
            return True
        if "#" in item:
            day, _, nth = item.partition("#")
            return value(day) and nth in ("1", "2", "3", "4", "5")
    base, slash, step = item.partition("/")
    if slash and not (step.isdigit() and int(step) >= 1):
        return False
    if base == "*":
        return True
    start, dash, end = base.partition("-")
    return value(start) and (not dash or value(end))


def check_queue(queue: Any, batch_size: Any = 10, max_receives: Any = 5) -> None:
    """RouteError unless the queue's name, batch size (1..10) and receives before dead-lettering (1..1000) fit SQS."""
    if not isinstance(queue, str) or not _QUEUE_NAME.match(queue):
        raise RouteError(f"queue {queue!r}: a name of letters, digits, _ and -, starting with a letter, up to 40")
    for name, value, allowed in (("batch_size", batch_size, BATCH_SIZES), ("max_receives", max_receives, MAX_RECEIVES)):
        if not isinstance(value, int) or isinstance(value, bool) or value not in allowed:
            raise RouteError(f"{name}={value!r}: {allowed.start}..{allowed.stop - 1}")


def scheduled_job(name: Any, expression: Any, function: str, *, timezone: Any = None, **rest: Any) -> ScheduledJob:
    """A checked ScheduledJob: a name as direct routes have, a schedule EventBridge takes (inputs: `check_inputs`)."""
    try:
        check_direct(name)
        check_schedule(expression, timezone)
    except RouteError as exc:
        raise RouteError(f"{exc} on {function}()") from None
    return ScheduledJob(name, expression, function, timezone=timezone, **rest)


def queue_consumer(
    queue: Any, function: str, *, batch_size: Any = 10, max_receives: Any = 5, **rest: Any
) -> QueueConsumer:
    """A checked QueueConsumer: a queue SQS can hold (its function's one message: `check_inputs`)."""
    try:
        check_queue(queue, batch_size, max_receives)
    except RouteError as exc:
        raise RouteError(f"{exc} on {function}()") from None
    return QueueConsumer(queue, function, batch_size=batch_size, max_receives=max_receives, **rest)


def check_inputs(route: Route) -> None:
    """RouteError when a job takes inputs or a consumer does not take exactly one (the message).

    Judged on the function as finally served (`@transaction` written above the decorator takes its
    connection away only then), by the runtime when it builds its table and by the scanner alike.
    """
    spec = route.spec
    if isinstance(route, ScheduledJob):
        required = [p.name for p in spec.parameters if p.required]
        if required:
            raise RouteError(
                f"job {route.name!r} on {route.function}(): a job takes no inputs, but it requires {required[0]}"
            )
    elif isinstance(route, QueueConsumer):
        if len(spec.parameters) != 1 or spec.parameters[0].injected or spec.accepts_any:
            raise RouteError(
                f"queue {route.queue!r} on {route.function}(): a consumer takes one parameter, the message"
            )


def _check_spec(spec: Spec, function: str) -> None:
    for name in spec.params:
        if spec.parameter(name) is None:
            raise RouteError(f"params={{{name!r}: ...}} on {function}(): the function has no parameter {name}")
    for what, schema in (("body", spec.body), ("response", spec.response)):
        if schema is not None and not isinstance(schema, Mapping):
            raise RouteError(f"{what}= on {function}() must be a JSON Schema (a dict)")
    if spec.body is not None and spec.parameter("body") is None:
        raise RouteError(f"body= on {function}(): the function has no parameter body")
    _check_access(spec, function)


def _check_access(spec: Spec, function: str) -> None:
    if spec.auth is not None and spec.auth not in ROUTE_AUTH:
        raise RouteError(
            f"auth={spec.auth!r} on {function}(): use 'none' (public) or 'iam' (SigV4), or leave it out for the"
            " stack's default"
        )
    for name in ("groups", "scopes"):
        values = getattr(spec, name)
        if not isinstance(values, tuple) or not all(isinstance(v, str) and v and v.strip() == v for v in values):
            raise RouteError(f"{name}= on {function}() must be a list of names, like {name}=['staff']")
    for group in spec.groups:
        if AMBIGUOUS_CHARACTERS.intersection(group):
            raise RouteError(
                f"groups= on {function}(): {group!r} cannot be told apart from other groups in the claims API Gateway"
                " passes on (it writes a list as 'a,b' or '[a b]'); name groups without ',', '[', ']' or spaces"
            )
    if spec.restricted and spec.auth is not None:
        kind = "public" if spec.auth == "none" else "signed with IAM, which carries no groups or scopes"
        raise RouteError(f"{function}() names groups or scopes but auth={spec.auth!r} makes it {kind}")


# -- tables ------------------------------------------------------------------------------------------
@record()
class Match:
    """What a request is for: the route and its path parameters, or the methods the path allows."""

    route: RestRoute | None
    path_parameters: dict[str, str]
    allowed: tuple[str, ...] = ()


class RouteTable:
    """Every route of one function, checked as a whole, with REST matching in API Gateway's order."""

    def __init__(self, routes: Iterable[Route] = ()) -> None:
        self.rest: tuple[RestRoute, ...] = ()
        self.graphql: tuple[GraphqlRoute, ...] = ()
        self.direct: tuple[DirectRoute, ...] = ()
        self.jobs: tuple[ScheduledJob, ...] = ()
        self.queues: tuple[QueueConsumer, ...] = ()
        self._by_key: dict[tuple[str, Any], Route] = {}
        self._variables: dict[str, tuple[str, RestRoute]] = {}
        self._ordered: dict[str, list[RestRoute]] = {}
        for route in routes:
            self.add(route)

    def add(self, route: Route) -> None:
        """Add one route; RouteError when it clashes with one already here."""
        kind = type(route).__name__
        key = (kind, route.key)
        if key in self._by_key:
            first = self._by_key[key]
            raise RouteError(f"{label(route)} on {route.function}() is already claimed by {first.function}()")
        if isinstance(route, RestRoute):
            self._check_variables(route)
            self.rest += (route,)
            self._ordered = {}
        elif isinstance(route, GraphqlRoute):
            self.graphql += (route,)
        elif isinstance(route, ScheduledJob):
            self.jobs += (route,)
        elif isinstance(route, QueueConsumer):
            self.queues += (route,)
        else:
            self.direct += (route,)
        self._by_key[key] = route

    def _check_variables(self, route: RestRoute) -> None:
        found = dict(self._variables)
        for parent, written in route.path.variable_positions():
            previous = found.setdefault(parent, (written, route))
            if previous[0] != written:
                raise RouteError(
                    f"{route.path.text} on {route.function}() names {written} where {previous[1].path.text}"
                    f" on {previous[1].function}() names {previous[0]}; API Gateway needs one name per position"
                )
        self._variables = found

    def __iter__(self) -> Any:
        return iter((*self.rest, *self.graphql, *self.direct, *self.jobs, *self.queues))

    def rest_route(self, method: str, path: str) -> RestRoute | None:
        """The REST route declared for exactly this method and path template (API Gateway's `resource`)."""
        route = self._by_key.get(("RestRoute", (method, path)))
        return route if isinstance(route, RestRoute) else None

    def graphql_route(self, type_name: str, field_name: str) -> GraphqlRoute | None:
        """The resolver of `type_name.field_name`, if declared."""
        route = self._by_key.get(("GraphqlRoute", (type_name, field_name)))
        return route if isinstance(route, GraphqlRoute) else None

    def direct_route(self, name: str) -> DirectRoute | None:
        """The direct route of that name, if declared."""
        route = self._by_key.get(("DirectRoute", name))
        return route if isinstance(route, DirectRoute) else None

    def job(self, name: str) -> ScheduledJob | None:
        """The scheduled job of that name, if declared."""
        route = self._by_key.get(("ScheduledJob", name))
        return route if isinstance(route, ScheduledJob) else None

    def consumer(self, queue: str) -> QueueConsumer | None:
        """The consumer of that queue, if declared."""
        route = self._by_key.get(("QueueConsumer", queue))
        return route if isinstance(route, QueueConsumer) else None

    def match(self, method: str, path: str, *, ignore_trailing_slash: bool = True) -> Match:
        """The route API Gateway would pick for `method path`, or the methods its path allows (405), or nothing (404).

        REST APIs (v1) ignore a trailing slash; HTTP APIs (v2) do not.
        """
        if ignore_trailing_slash:
            path = path.rstrip("/") or "/"
        if not self._ordered:
            ordered = sorted(self.rest, key=lambda r: r.path.specificity)
            for route in ordered:
                self._ordered.setdefault(route.method, []).append(route)
        for route in self._ordered.get(method, ()):
            found = route.path.regex.match(path)
            if found:
                return Match(route, found.groupdict())
        allowed = sorted({r.method for r in self.rest if r.path.regex.match(path)})
        return Match(None, {}, tuple(allowed))


def label(route: Route) -> str:
    """How messages name a route: `REST GET /students`, `GraphQL Query.getStudent`, `direct 'migrate'`."""
    if isinstance(route, RestRoute):
        return f"REST {route.method} {route.path.text}"
    if isinstance(route, GraphqlRoute):
        return f"GraphQL {route.type_name}.{route.field}"
    if isinstance(route, ScheduledJob):
        return f"job {route.name!r}"
    if isinstance(route, QueueConsumer):
        return f"queue {route.queue!r}"
    return f"direct {route.name!r}"


def describe(route: Route) -> dict[str, Any]:
    """Every compared field of a route as JSON-ready data: equal records give equal descriptions.

    The stack compares what the source says with what an import registers through these, across a
    process boundary (synth never imports the user's code itself).
    """
    spec = route.spec
    described: dict[str, Any] = {
        "route": label(route),
        "function": route.function,
        "module": route.module,
        "parameters": [[p.name, p.type, p.items, p.required] for p in spec.parameters],
        "accepts_any": spec.accepts_any,
        "body": spec.body,
        "response": spec.response,
        "params": dict(spec.params),
        "summary": spec.summary,
        "auth": spec.auth,
        "groups": list(spec.groups),
        "scopes": list(spec.scopes),
    }
    if isinstance(route, RestRoute):
        described["status"] = route.status
    elif isinstance(route, ScheduledJob):
        described.update(expression=route.expression, timezone=route.timezone)
    elif isinstance(route, QueueConsumer):
        described.update(batch_size=route.batch_size, max_receives=route.max_receives)
    return described
