"""Rooms: spaces, rates, opening hours, bookings and series, availability and feeds.

Public API for other modules is re-exported here as it is built.
"""
