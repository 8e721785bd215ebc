"""Café: menu, till sessions, sales, payments at the till and cash-up."""
