// Expands an iCalendar file with Mozilla's ical.js (the parser Thunderbird uses) and prints every
// occurrence as JSON: start and end as UTC instants, the time zone ical.js resolved them in, the
// summary and the status. Used by tests/rooms/test_feed_*.py as a second, independent parser.
//
//   node expand.mjs FILE.ics FROM TO      (FROM/TO: ISO UTC instants bounding the starts)
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const [file, from, to] = process.argv.slice(2);
const first = Date.parse(from);
const last = Date.parse(to);
const root = new ICAL.Component(ICAL.parse(readFileSync(file, "utf8")));

const masters = new Map();
const exceptions = [];
for (const component of root.getAllSubcomponents("vevent")) {
  const event = new ICAL.Event(component);
  if (event.isRecurrenceException()) exceptions.push(event);
  else masters.set(`${event.uid}|${masters.size}`, event);
}
const byUid = new Map();
for (const event of masters.values()) byUid.set(event.uid, event);
for (const exception of exceptions) {
  const master = byUid.get(exception.uid);
  if (master) master.relateException(exception);
  else masters.set(`${exception.uid}|x${masters.size}`, exception);
}

const instant = (time) => new Date(time.toUnixTime() * 1000).toISOString();
const found = [];
function add(start, end, item) {
  const at = start.toUnixTime() * 1000;
  if (at < first || at >= last) return;
  found.push({
    start: instant(start),
    end: instant(end),
    tzid: start.zone ? start.zone.tzid : null,
    summary: item.summary,
    status: item.component.getFirstPropertyValue("status") || "",
  });
}

for (const event of masters.values()) {
  if (!event.isRecurring()) {
    add(event.startDate, event.endDate, event);
    continue;
  }
  const iterator = event.iterator();
  for (let next = iterator.next(); next; next = iterator.next()) {
    const details = event.getOccurrenceDetails(next);
    if (details.startDate.toUnixTime() * 1000 >= last && next.toUnixTime() * 1000 >= last) break;
    add(details.startDate, details.endDate, details.item);
  }
}
found.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.summary < b.summary ? -1 : 1));
process.stdout.write(JSON.stringify(found));
