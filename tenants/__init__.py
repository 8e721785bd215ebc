"""Tenants: lettable units, agreements, rent and service-charge schedules, the tenant portal."""
