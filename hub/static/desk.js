// Reception desk: a live price and clash check on the booking forms. The forms work without
// this; it only saves pressing "Check price and clashes".
(function () {
  "use strict";
  var forms = document.querySelectorAll("form[data-quote-form]");
  if (!forms.length || !window.fetch) return;

  function pounds(pence) {
    var sign = pence < 0 ? "-" : "";
    pence = Math.abs(pence);
    var whole = Math.floor(pence / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return sign + "£" + whole + "." + String(pence % 100).padStart(2, "0");
  }

  function clock(iso, zone) {
    var when = new Date(iso);
    var day = when.toLocaleDateString("en-GB", { timeZone: zone, weekday: "short", day: "2-digit", month: "short" });
    var time = when.toLocaleTimeString("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit", hour12: false });
    return { day: day.replace(",", ""), time: time };
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  forms.forEach(function (form) {
    var out = form.querySelector("#quote");
    var csrf = form.querySelector('input[name="_csrf"]');
    var zone = form.getAttribute("data-zone") || "Europe/London";
    var timer = null;
    var seq = 0;
    if (!out || !csrf) return;

    function value(name) {
      var input = form.elements[name];
      return input ? String(input.value || "").trim() : "";
    }

    function show(build) {
      out.textContent = "";
      var box = el("div", "quote");
      box.appendChild(el("h2", "", "Price and clashes"));
      build(box);
      out.appendChild(box);
    }

    // 14:30, 9:30, 14.30 and 1430 all mean half past two, as on the server.
    function normClock(text) {
      text = text.replace(".", ":");
      if (/^\d{3,4}$/.test(text)) text = text.slice(0, -2) + ":" + text.slice(-2);
      var m = /^(\d{1,2}):(\d\d)(:00)?$/.exec(text);
      if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) return "";
      return (m[1].length === 1 ? "0" : "") + m[1] + ":" + m[2];
    }

    function request() {
      var room = value("room_id"), day = value("date");
      var start = normClock(value("start")), end = normClock(value("end"));
      var organisation = value("organisation_id") || form.getAttribute("data-organisation-id") || "";
      if (!room || !day || !/^\d\d:\d\d/.test(start) || !/^\d\d:\d\d/.test(end) || !organisation) return;
      var endDay = day;
      if (end.slice(0, 5) === "00:00" && start.slice(0, 5) !== "00:00") {
        var next = new Date(day + "T12:00:00Z");
        next.setUTCDate(next.getUTCDate() + 1);
        endDay = next.toISOString().slice(0, 10);
      }
      var body = {
        room_id: Number(room),
        organisation_id: Number(organisation),
        start: day + "T" + start.slice(0, 5) + ":00",
        end: endDay + "T" + end.slice(0, 5) + ":00"
      };
      var booking = form.getAttribute("data-booking-id");
      if (booking) body.exclude_booking_id = Number(booking);
      var mine = ++seq;
      fetch("/api/v1/quotes", {
        method: "POST",
        credentials: "same-origin",
        headers: { "content-type": "application/json", "x-csrf-token": csrf.value, accept: "application/json" },
        body: JSON.stringify(body)
      }).then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      }).then(function (result) {
        if (mine !== seq) return;
        var q = result.data;
        if (!result.ok) {
          show(function (box) {
            box.classList.add("has-problem");
            var reason = (q.errors && q.errors.length) ? q.errors[0].reason : (q.detail || "This cannot be priced.");
            box.appendChild(el("p", "warn-text", reason.charAt(0).toUpperCase() + reason.slice(1)));
          });
          return;
        }
        show(function (box) {
          var price = el("p", "price", pounds(q.gross_pence) + " ");
          if (q.allowance_note) {
            // An allowance (a tenant's included hours) covers the hire: say so, and why.
            price.appendChild(el("span", "muted", "(no hire charge)"));
            box.appendChild(price);
            var note = el("p", "allowance-note");
            note.appendChild(el("strong", "", q.allowance_note));
            box.appendChild(note);
          } else {
            price.appendChild(el("span", "muted", "(" + pounds(q.net_pence) + " + VAT " + pounds(q.vat_pence) + " at " + (q.vat_rate_bp / 100) + "%)"));
            box.appendChild(price);
            box.appendChild(el("p", "", q.description));
          }
          if (q.clashes.length) {
            box.classList.add("has-problem");
            var list = el("ul", "clash-list");
            q.clashes.forEach(function (c) {
              var a = clock(c.busy_start, zone), b = clock(c.busy_end, zone);
              list.appendChild(el("li", "", c.room + " is busy " + a.day + " " + a.time + "–" + b.time));
            });
            box.appendChild(list);
          } else {
            box.appendChild(el("p", "", "No clashes: the room is free."));
          }
          if (q.opening_hours_problem) {
            box.classList.add("has-problem");
            box.appendChild(el("p", "warn-text", q.opening_hours_problem));
          }
        });
      }).catch(function () { /* the server-side check still works */ });
    }

    function schedule() {
      window.clearTimeout(timer);
      timer = window.setTimeout(request, 300);
    }

    ["room_id", "organisation_id", "date", "start", "end"].forEach(function (name) {
      var input = form.elements[name];
      if (!input) return;
      input.addEventListener("change", schedule);
      input.addEventListener("input", schedule);
    });

    // The visibility select's blank option names the category's default.
    var category = form.elements["category"], visibility = form.elements["visibility"];
    function describeDefault() {
      if (!category || !visibility || !visibility.options.length) return;
      var chosen = category.options[category.selectedIndex];
      var def = chosen ? chosen.getAttribute("data-visibility") : null;
      if (def && visibility.options[0].value === "") {
        visibility.options[0].textContent = "The category's default (" + def + ")";
      }
    }
    if (category) category.addEventListener("change", describeDefault);
    describeDefault();
    if (!form.closest("details") || form.closest("details").open) request();
  });
})();
