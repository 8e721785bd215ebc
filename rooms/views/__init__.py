"""The reception desk's pages (HTML). Thin: every rule is in ``rooms.services``."""

from __future__ import annotations

from rooms.views import bookings, calendars, desk, find, mine, series

ROUTES = [
    desk.desk_day,
    desk.calendar_day,
    desk.desk_week,
    desk.room_tenant_bookable,
    bookings.booking_new,
    bookings.booking_create,
    bookings.booking_detail,
    bookings.booking_update,
    bookings.booking_cancel,
    bookings.booking_confirm,
    bookings.booking_check_in,
    bookings.booking_no_show,
    series.series_new,
    series.series_create,
    series.series_detail,
    find.find_room,
    calendars.whats_on,
    calendars.my_calendars,
    calendars.calendar_rotate,
    calendars.calendar_revoke,
    mine.my_booking,
    mine.my_booking_cancel,
]
