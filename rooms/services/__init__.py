"""The rooms module's business rules and queries. Pages, API, CLI and tests all call these."""
