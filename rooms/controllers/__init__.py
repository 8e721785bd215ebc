"""The rooms module's JSON API under /api/v1."""
