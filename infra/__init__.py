"""Infrastructure generated from the code: the route scanner, the CDK stack, the build and AWS ops.

Nothing here ships to Lambda; `src/` is the only thing that does. The route model and the OpenAPI
generator are the template's own dependency-free modules in src/lambdakit/, shared with the runtime
so synth judges routes exactly as the function does; their package's facade is lazy, so importing
them loads neither psycopg2 nor Powertools.
"""

import sys
from pathlib import Path

_SRC = str(Path(__file__).resolve().parent.parent / "src")
if _SRC not in sys.path:
    sys.path.append(_SRC)
