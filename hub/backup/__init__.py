"""Backups while the hub is open, and restores that prove themselves (``hubkeeper backup``/``restore``)."""
