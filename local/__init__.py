"""The local loop: an embedded PostgreSQL, schema and seed, and an API Gateway-like HTTP server."""
