"""The core's JSON API under /api/v1: thin handlers that parse, call a service, return a schema."""
