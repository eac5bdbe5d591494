"""The function's logger: Powertools Logger (structured JSON), created when the first line is logged.

Importing Powertools costs a cold start about 13 ms (its package loads its logging, metrics and
JMESPath modules), more than everything else the template adds; a request that logs nothing (the
usual cold start, every successful warm one) never pays it. The first line creates the Logger and
puts the request ids on its handler (lambdakit.observability), so every line carries them.
"""

from __future__ import annotations

from typing import Any


class LazyLogger:
    """Stands for `aws_lambda_powertools.Logger()`; every attribute is the real Logger's, made on first use."""

    _logger: Any = None

    def __getattr__(self, name: str) -> Any:
        logger = LazyLogger._logger
        if logger is None:
            from aws_lambda_powertools import Logger

            from lambdakit import observability

            logger = LazyLogger._logger = Logger()
            observability.install_log_filter()
        return getattr(logger, name)


logger = LazyLogger()
