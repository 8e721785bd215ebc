"""Business rules and every query of the module; one service per aggregate."""
