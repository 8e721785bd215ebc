"""Business rules and every query of the core. Controllers, pages, the CLI and tests call these."""
