"""Infrastructure generated from the code: the route scanner, the CDK stack, the build and AWS ops.

Nothing here ships to Lambda; `src/` is the only thing that does.
"""
