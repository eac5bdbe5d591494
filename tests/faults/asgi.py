"""The local server's ASGI app for any Lambda module named by LAMBDA_MODULE (the fault routes, or the sample)."""

from __future__ import annotations

import os

from local.server import LambdaApp

app = LambdaApp(module=os.environ.get("LAMBDA_MODULE", "lambda_function"))
