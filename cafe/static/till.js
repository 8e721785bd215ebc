/* The till: menu, basket, payment and the offline queue. Plain JavaScript, no framework.
 *
 * Each sale gets a UUID made here (crypto.randomUUID) and is written to IndexedDB BEFORE it is
 * sent. The queue is sent in the order the sales were rung; the server records a UUID once and
 * answers a resend with its first answer, so a sale sent twice (a lost answer, a reload) is still
 * one sale. While the network is down the till keeps taking cash and card-terminal sales and says
 * plainly how many wait. */
(function () {
  "use strict";

  var API = "/api/v1/cafe";
  var CSRF = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var SUPERVISOR = document.body.getAttribute("data-supervisor") === "yes";
  var NOTES = [500, 1000, 2000, 5000];

  var state = {
    menu: null,
    tab: 0,
    session: null, // {id, till_id, till_name}
    basket: emptyBasket(),
    undo: [], // [{label, basket}]
    online: navigator.onLine,
    waiting: 0,
    problems: 0,
    sending: false,
    pay: null, // what the payment dialog is doing
  };

  function emptyBasket() {
    return { lines: [], eatIn: false, discount: null, gifts: [] };
  }

  // --- small helpers ---------------------------------------------------------------------------
  function $(id) {
    return document.getElementById(id);
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key === "onclick") node.addEventListener("click", value);
      else if (key === "className") node.className = value;
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }
  function money(pence) {
    var sign = pence < 0 ? "−" : "";
    pence = Math.abs(pence);
    return sign + "£" + Math.floor(pence / 100) + "." + String(pence % 100).padStart(2, "0");
  }
  function halfUp(numerator, denominator) {
    // round(numerator / denominator) half-up, for non-negative integers
    return Math.floor((2 * numerator + denominator) / (2 * denominator));
  }
  function parsePounds(text) {
    var raw = String(text || "").replace(/[£\s,]/g, "");
    if (!/^\d*(\.\d{1,2})?$/.test(raw) || raw === "" || raw === ".") return null;
    var parts = raw.split(".");
    return parseInt(parts[0] || "0", 10) * 100 + parseInt(((parts[1] || "") + "00").slice(0, 2), 10);
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }
  function plural(n, one, many) {
    return n + " " + (n === 1 ? one : many);
  }
  function problem(text) {
    var box = $("till-problem");
    box.textContent = text || "";
    box.hidden = !text;
  }

  function api(path, options) {
    options = options || {};
    var headers = { accept: "application/json" };
    if (options.body !== undefined) {
      headers["content-type"] = "application/json";
      headers["x-csrf-token"] = CSRF;
    }
    return fetch(API + path, {
      method: options.method || "GET",
      headers: headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: "same-origin",
      cache: "no-store",
    }).then(function (response) {
      var type = response.headers.get("content-type") || "";
      var read = type.indexOf("json") >= 0 ? response.json() : Promise.resolve(null);
      return read.then(function (data) {
        return { status: response.status, ok: response.ok, data: data, headers: response.headers };
      });
    });
  }

  function remember(key, value) {
    try { localStorage.setItem("hub-till-" + key, JSON.stringify(value)); } catch (e) { /* full */ }
  }
  function recall(key) {
    try { return JSON.parse(localStorage.getItem("hub-till-" + key) || "null"); } catch (e) { return null; }
  }

  // --- the queue in IndexedDB ------------------------------------------------------------------
  var dbPromise = null;
  function queueDb() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var open = indexedDB.open("hub-till", 1);
        open.onupgradeneeded = function () {
          open.result.createObjectStore("sales", { keyPath: "seq", autoIncrement: true });
        };
        open.onsuccess = function () { resolve(open.result); };
        open.onerror = function () { reject(open.error); };
      });
    }
    return dbPromise;
  }
  function store(mode, work) {
    return queueDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction("sales", mode);
        var result = work(tx.objectStore("sales"));
        tx.oncomplete = function () { resolve(result && result.result !== undefined ? result.result : result); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }
  function queued() {
    return store("readonly", function (s) { return s.getAll(); });
  }
  function enqueue(sale) {
    return store("readwrite", function (s) { return s.add(sale); });
  }
  function dequeue(seq) {
    return store("readwrite", function (s) { return s.delete(seq); });
  }
  function markProblem(record, detail) {
    record.problem = detail;
    return store("readwrite", function (s) { return s.put(record); });
  }

  function countQueue() {
    return queued().then(function (all) {
      state.waiting = all.filter(function (r) { return !r.problem; }).length;
      state.problems = all.filter(function (r) { return r.problem; }).length;
      showStatus();
      return all;
    });
  }

  // Send the waiting sales, oldest first; stop at the first that cannot be sent now.
  function flush() {
    if (state.sending) return Promise.resolve();
    state.sending = true;
    return queued()
      .then(function (all) {
        var waiting = all.filter(function (r) { return !r.problem; }).sort(function (a, b) { return a.seq - b.seq; });
        var step = function (index) {
          if (index >= waiting.length) return Promise.resolve();
          var record = waiting[index];
          return api("/sales", { method: "POST", body: record.body }).then(
            function (answer) {
              setOnline(true);
              if (answer.ok) {
                state.lastSent = record.body.uuid;
                if (state.pendingReceipt === record.body.uuid) showReceipt(answer.data, record.body.uuid);
                return dequeue(record.seq).then(function () { return step(index + 1); });
              }
              if (answer.status >= 500 || answer.status === 401 || answer.status === 429) {
                if (answer.status === 401) problem("You have been signed out. Sign in again: the waiting sales are kept.");
                return null; // try again later, in the same order
              }
              var detail = (answer.data && (answer.data.detail || answer.data.title)) || "The server refused this sale.";
              state.lastProblem = { uuid: record.body.uuid, detail: detail };
              if (state.pendingReceipt === record.body.uuid) {
                var line = $("receipt-state");
                if (line) line.textContent = "Not recorded: " + detail + " Show your supervisor.";
                $("change").textContent = "Stop: this sale was not recorded";
              }
              return markProblem(record, detail).then(function () { return step(index + 1); });
            },
            function () {
              setOnline(false);
              return null;
            }
          );
        };
        return step(0);
      })
      .catch(function () { /* IndexedDB unavailable: nothing queued */ })
      .then(function () {
        state.sending = false;
        return countQueue();
      });
  }

  function setOnline(value) {
    if (state.online !== value) {
      state.online = value;
      showStatus();
    }
  }

  function showStatus() {
    var box = $("till-status");
    var text;
    if (!state.online) {
      text = "Offline — " + plural(state.waiting, "sale", "sales") + " waiting. Keep selling: cash and card machine only.";
    } else if (state.waiting) {
      text = "Sending — " + plural(state.waiting, "sale", "sales") + " waiting";
    } else {
      text = "Online — all sales sent";
    }
    if (state.problems) {
      text += ". " + plural(state.problems, "sale needs", "sales need") + " a supervisor";
    }
    $("problems").hidden = !state.problems;
    box.className = "till-status " + (!state.online ? "is-offline" : state.waiting || state.problems ? "is-sending" : "is-online");
    $("till-status-text").textContent = text;
    $("pay-other").disabled = !state.basket.lines.length && !state.basket.gifts.length;
  }

  // --- loading the menu and the session --------------------------------------------------------
  function load() {
    showStatus();
    var menu = api("/menu").then(
      function (answer) {
        if (!answer.ok) throw new Error("menu " + answer.status);
        setOnline(true);
        remember("menu", answer.data);
        return answer.data;
      },
      function () {
        setOnline(false);
        return recall("menu");
      }
    );
    var sessions = api("/sessions?status=open").then(
      function (answer) {
        if (!answer.ok) throw new Error("sessions " + answer.status);
        var items = Array.isArray(answer.data) ? answer.data : answer.data.items || answer.data.sessions || [];
        remember("sessions", items);
        return items;
      },
      function () {
        return recall("sessions") || [];
      }
    );
    return Promise.all([menu, sessions]).then(
      function (both) {
        state.menu = both[0];
        if (!state.menu) {
          problem("The menu could not be loaded. Check the Wi-Fi, then reload the page.");
          return;
        }
        chooseSession(both[1]);
        render();
      },
      function (error) {
        problem("The till could not start (" + error.message + "). Reload the page, or ask your supervisor.");
      }
    );
  }

  function tillName(session) {
    return session.till_name || (session.till && session.till.name) || "Till " + session.till_id;
  }

  function chooseSession(sessions) {
    var saved = recall("till-id");
    var mine = sessions.filter(function (s) { return s.till_id === saved; })[0];
    if (!mine && sessions.length === 1) mine = sessions[0];
    var box = $("choose-session");
    if (mine) {
      useSession(mine);
      box.hidden = true;
      return;
    }
    var list = $("choose-list");
    list.textContent = "";
    if (sessions.length) {
      $("choose-text").textContent = "Tap the till you are working on.";
      sessions.forEach(function (s) {
        list.appendChild(el("button", { type: "button", className: "pay-button other", text: tillName(s), onclick: function () {
          useSession(s);
          box.hidden = true;
          render();
        } }));
      });
    } else {
      $("choose-text").textContent = "No till is open. Ask your supervisor to open one" + (SUPERVISOR ? " (Sessions, at the top)." : ".");
    }
    box.hidden = false;
  }

  function useSession(s) {
    state.session = { id: s.id, till_id: s.till_id, till_name: tillName(s) };
    remember("till-id", s.till_id);
    $("till-session").textContent = state.session.till_name + " · session " + s.id;
  }

  // --- prices ----------------------------------------------------------------------------------
  function product(id) {
    var found = null;
    (state.menu ? state.menu.categories : []).forEach(function (c) {
      c.products.forEach(function (p) { if (p.id === id) found = p; });
    });
    return found;
  }
  function discountOf(code) {
    return ((state.menu && state.menu.discounts) || []).filter(function (d) { return d.code === code; })[0] || null;
  }
  function lineGross(line) {
    var unit = line.price;
    line.mods.forEach(function (m) { unit += m.price_pence; });
    return unit * line.qty;
  }
  function lineDiscount(line) {
    var d = state.basket.discount ? discountOf(state.basket.discount) : null;
    return d ? halfUp(lineGross(line) * d.percent_bp, 10000) : 0;
  }
  function giftPrice(kind) {
    var pool = state.menu && state.menu.pay_it_forward && state.menu.pay_it_forward[kind];
    if (pool && pool.unit_price_pence) return pool.unit_price_pence;
    if (pool && pool.price_pence) return pool.price_pence;
    // The server prices a gift as the dearest product of its kind (a coffee of any size is covered).
    var dearest = 0;
    (state.menu ? state.menu.categories : []).forEach(function (c) {
      c.products.forEach(function (p) {
        if (p.pay_it_forward_kind === kind && p.price_pence > dearest) dearest = p.price_pence;
      });
    });
    return dearest;
  }
  function totals() {
    var goods = 0;
    var discount = 0;
    state.basket.lines.forEach(function (line) {
      goods += lineGross(line);
      discount += lineDiscount(line);
    });
    var gifts = 0;
    state.basket.gifts.forEach(function (g) { gifts += g.units * giftPrice(g.kind); });
    return { goods: goods, discount: discount, gifts: gifts, total: goods - discount + gifts };
  }
  function poolUnits(kind) {
    var pool = state.menu && state.menu.pay_it_forward && state.menu.pay_it_forward[kind];
    return pool ? pool.units : 0;
  }
  // What the pool would pay for: every line of a pay-it-forward product, whole (as the server
  // counts it), if the pool holds enough units of each kind; else nothing.
  function poolCover() {
    var pence = 0;
    var units = { coffee: 0, meal: 0 };
    state.basket.lines.forEach(function (line) {
      if (!line.pif) return;
      units[line.pif] += line.qty;
      pence += lineGross(line) - lineDiscount(line);
    });
    var short = Object.keys(units).some(function (kind) { return units[kind] > poolUnits(kind); });
    return short ? { pence: 0, units: units, short: pence > 0 } : { pence: pence, units: units, short: false };
  }

  // --- changing the basket (every change can be undone) ----------------------------------------
  function change(label, work) {
    state.undo.push({ label: label, basket: JSON.parse(JSON.stringify(state.basket)) });
    if (state.undo.length > 50) state.undo.shift();
    work(state.basket);
    hideDone();
    render();
  }

  function addProduct(p) {
    if (!state.session) {
      problem("No till session is open, so sales cannot be taken. Ask your supervisor.");
      return;
    }
    problem("");
    change("add " + p.short_name, function (b) {
      var same = b.lines.filter(function (l) { return l.product_id === p.id && !l.mods.length && l.eatIn === b.eatIn; })[0];
      if (same) same.qty += 1;
      else b.lines.push({ product_id: p.id, name: p.short_name, price: p.price_pence, qty: 1, eatIn: b.eatIn, mods: [], pif: p.pay_it_forward_kind || null });
    });
  }

  function undo() {
    var last = state.undo.pop();
    if (!last) return;
    state.basket = last.basket;
    render();
    say("Undone: " + last.label + ".");
  }

  function say(text) {
    var live = $("basket-empty");
    if (!state.basket.lines.length) live.textContent = text + " Tap a picture to add it.";
  }

  // --- drawing ---------------------------------------------------------------------------------
  function render() {
    renderTabs();
    renderGrid();
    renderBasket();
    showStatus();
  }

  function renderTabs() {
    var tabs = $("tabs");
    tabs.textContent = "";
    state.menu.categories.forEach(function (category, index) {
      var selected = index === state.tab;
      tabs.appendChild(el("button", {
        type: "button",
        role: "tab",
        id: "tab-" + index,
        "aria-selected": selected ? "true" : "false",
        className: "tab" + (selected ? " is-selected" : ""),
        text: category.name,
        onclick: function () { state.tab = index; render(); $("tab-" + index).focus(); },
      }));
    });
  }

  function renderGrid() {
    var grid = $("grid");
    grid.textContent = "";
    var category = state.menu.categories[state.tab];
    if (!category) return;
    grid.setAttribute("aria-labelledby", "tab-" + state.tab);
    category.products.forEach(function (p) {
      var picture = p.picture_url || p.pictogram_url;
      var off = !p.available || p.stock_count === 0;
      var notes = [];
      if (off) notes.push(el("span", { className: "product-flag off", text: "Not available" }));
      else if (p.low_stock) notes.push(el("span", { className: "product-flag low", text: "Only " + p.stock_count + " left" }));
      var allergens = (p.allergen_labels || []).join(", ");
      grid.appendChild(el("button", {
        type: "button",
        className: "product" + (off ? " is-off" : ""),
        disabled: off,
        "data-product": p.id,
        title: p.description || null,
        onclick: function () { addProduct(p); },
      }, [
        picture ? el("img", { src: picture, alt: "", className: "product-picture", loading: "lazy" }) : el("span", { className: "product-picture blank", "aria-hidden": "true" }),
        el("span", { className: "product-name", text: p.short_name }),
        el("span", { className: "product-price", text: money(p.price_pence) }),
        allergens ? el("span", { className: "product-allergens", text: "Contains: " + allergens }) : el("span", { className: "product-allergens", text: "No listed allergens" }),
      ].concat(notes)));
    });
  }

  function renderBasket() {
    var b = state.basket;
    var list = $("lines");
    list.textContent = "";
    b.lines.forEach(function (line, index) {
      var p = product(line.product_id);
      var modNames = line.mods.map(function (m) { return m.name + " +" + money(m.price_pence); }).join(", ");
      list.appendChild(el("li", { className: "line" }, [
        el("div", { className: "line-what" }, [
          el("span", { className: "line-name", text: line.qty + " × " + line.name }),
          el("span", { className: "line-where", text: line.eatIn ? "Eat in" : "Take away" }),
          modNames ? el("span", { className: "line-mods", text: modNames }) : null,
        ]),
        el("span", { className: "line-price", text: money(lineGross(line)) }),
        el("div", { className: "line-buttons" }, [
          el("button", { type: "button", className: "qty", "aria-label": "One less " + line.name, text: "−", onclick: function () {
            change(line.qty > 1 ? "one less " + line.name : "remove " + line.name, function (basket) {
              var l = basket.lines[index];
              if (l.qty > 1) l.qty -= 1; else basket.lines.splice(index, 1);
            });
          } }),
          el("button", { type: "button", className: "qty", "aria-label": "One more " + line.name, text: "+", onclick: function () {
            change("one more " + line.name, function (basket) { basket.lines[index].qty += 1; });
          } }),
          p && p.modifiers && p.modifiers.length
            ? el("button", { type: "button", className: "till-button small", text: "Extras", "aria-label": "Extras for " + line.name, onclick: function () { pickModifiers(index); } })
            : null,
        ]),
      ]));
    });
    b.gifts.forEach(function (gift, index) {
      list.appendChild(el("li", { className: "line gift" }, [
        el("div", { className: "line-what" }, [
          el("span", { className: "line-name", text: gift.units + " × pay it forward: " + (gift.kind === "meal" ? "a meal" : "a coffee") }),
          el("span", { className: "line-where", text: "Goes into the pool" }),
        ]),
        el("span", { className: "line-price", text: money(gift.units * giftPrice(gift.kind)) }),
        el("div", { className: "line-buttons" }, [
          el("button", { type: "button", className: "qty", "aria-label": "Remove the gift", text: "−", onclick: function () {
            change("remove gift", function (basket) { basket.gifts.splice(index, 1); });
          } }),
        ]),
      ]));
    });
    var empty = !b.lines.length && !b.gifts.length;
    $("basket-empty").hidden = !empty;
    if (!empty) $("basket-empty").textContent = "Tap a picture to add it.";
    var t = totals();
    $("total").textContent = money(t.total);
    var d = b.discount ? discountOf(b.discount) : null;
    $("discount-line").hidden = !d;
    if (d) $("discount-line").textContent = "Discount: " + d.label + " (" + money(t.discount) + " off)";
    $("discount").textContent = d ? "Discount: " + d.label : "Discount";
    $("takeaway").setAttribute("aria-pressed", b.eatIn ? "false" : "true");
    $("eat-in").setAttribute("aria-pressed", b.eatIn ? "true" : "false");
    $("takeaway").textContent = (b.eatIn ? "" : "✓ ") + "Take away";
    $("eat-in").textContent = (b.eatIn ? "✓ " : "") + "Eat in";
    var last = state.undo[state.undo.length - 1];
    $("undo").disabled = !last;
    $("undo").textContent = last ? "Undo: " + last.label : "Undo";
    $("pay-cash").disabled = empty || !state.session;
    $("pay-card").disabled = empty || !state.session;
    $("pay-other").disabled = empty || !state.session;
    $("clear").disabled = empty;
    var pif = state.menu.pay_it_forward || {};
    var pool = [];
    if (pif.coffee) pool.push(plural(pif.coffee.units, "coffee", "coffees"));
    if (pif.meal) pool.push(plural(pif.meal.units, "meal", "meals"));
    $("pool").textContent = pool.length ? "Pay-it-forward pool: " + pool.join(" and ") + " waiting for someone." : "";
  }

  function hideDone() {
    $("done").hidden = true;
  }

  // --- choices in a dialog (extras, discount, gift) --------------------------------------------
  function openPick(title, build) {
    $("pick-h").textContent = title;
    var body = $("pick-body");
    body.textContent = "";
    build(body);
    $("pick").showModal();
  }

  function pickModifiers(index) {
    var line = state.basket.lines[index];
    var p = product(line.product_id);
    openPick("Extras for " + line.name, function (body) {
      p.modifiers.forEach(function (m) {
        var on = line.mods.some(function (x) { return x.id === m.id; });
        body.appendChild(el("button", {
          type: "button",
          className: "toggle wide",
          "aria-pressed": on ? "true" : "false",
          text: (on ? "✓ " : "") + m.name + " +" + money(m.price_pence),
          onclick: function () {
            change((on ? "remove " : "add ") + m.name, function (basket) {
              var l = basket.lines[index];
              if (on) l.mods = l.mods.filter(function (x) { return x.id !== m.id; });
              else l.mods.push({ id: m.id, name: m.name, price_pence: m.price_pence });
            });
            $("pick").close();
            pickModifiers(index);
          },
        }));
      });
    });
  }

  function pickDiscount() {
    openPick("Discount", function (body) {
      var choices = [{ code: null, label: "No discount" }].concat((state.menu.discounts || []));
      choices.forEach(function (d) {
        var on = state.basket.discount === d.code;
        body.appendChild(el("button", {
          type: "button",
          className: "toggle wide",
          "aria-pressed": on ? "true" : "false",
          text: (on ? "✓ " : "") + d.label + (d.percent_bp ? " (" + d.percent_bp / 100 + "% off)" : ""),
          onclick: function () {
            change(d.code ? "discount " + d.label : "no discount", function (basket) { basket.discount = d.code; });
            $("pick").close();
          },
        }));
      });
    });
  }

  function pickGift() {
    openPick("Pay it forward", function (body) {
      body.appendChild(el("p", { text: "The customer pays now for someone who needs it later. It goes into the pool." }));
      [["coffee", "A coffee"], ["meal", "A meal"]].forEach(function (pair) {
        var price = giftPrice(pair[0]);
        if (!price) return;
        body.appendChild(el("button", {
          type: "button",
          className: "toggle wide",
          "data-gift": pair[0],
          text: pair[1] + " for someone — " + money(price),
          onclick: function () {
            change("pay it forward " + pair[0], function (basket) {
              var same = basket.gifts.filter(function (g) { return g.kind === pair[0]; })[0];
              if (same) same.units += 1; else basket.gifts.push({ kind: pair[0], units: 1 });
            });
            $("pick").close();
          },
        }));
      });
    });
  }

  // --- payment ---------------------------------------------------------------------------------
  function openPay(mode) {
    var t = totals();
    state.pay = { mode: mode, total: t.total, pool: 0, card: 0 };
    $("pay-error").hidden = true;
    $("pay-due").textContent = money(t.total);
    drawPay();
    $("pay").showModal();
  }

  function payError(text) {
    var box = $("pay-error");
    box.textContent = text;
    box.hidden = !text;
  }

  function quickAmounts(due) {
    var list = [due];
    NOTES.forEach(function (note) {
      if (note > due && list.length < 4) list.push(note);
    });
    return list;
  }

  function cashButtons(body, due, before) {
    var row = el("div", { className: "quick" });
    quickAmounts(due).forEach(function (amount, index) {
      row.appendChild(el("button", {
        type: "button",
        className: "pay-button cash",
        "data-cash": amount,
        text: index === 0 ? "Exact " + money(amount) : money(amount) + " given",
        onclick: function () { finish(before.concat([{ method: "cash", amount_pence: due, tendered_pence: amount }])); },
      }));
    });
    body.appendChild(row);
    var other = el("input", { id: "cash-given", type: "text", inputmode: "decimal", autocomplete: "off", className: "money-input" });
    body.appendChild(el("div", { className: "field" }, [
      el("label", { for: "cash-given", text: "Or type the cash given (£)" }),
      other,
      el("button", { type: "button", className: "till-button", text: "Take this cash", onclick: function () {
        var given = parsePounds(other.value);
        if (given === null) return payError("Type the cash given, such as 10 or 7.50.");
        if (given < due) return payError("That is less than " + money(due) + ". Ask for " + money(due - given) + " more.");
        finish(before.concat([{ method: "cash", amount_pence: due, tendered_pence: given }]));
      } }),
    ]));
  }

  function cardPart(body, amount, before, label) {
    var ref = el("input", { id: "card-ref", type: "text", autocomplete: "off", maxlength: "40", className: "money-input" });
    body.appendChild(el("p", { className: "step", text: "Put " + money(amount) + " on the card machine. Wait for “Approved”." }));
    body.appendChild(el("div", { className: "field" }, [
      el("label", { for: "card-ref", text: "Card slip number (from the machine’s slip)" }),
      ref,
    ]));
    body.appendChild(el("button", { type: "button", className: "pay-button card", id: "card-done", text: label || "Card approved — finish", onclick: function () {
      var tender = { method: "card", amount_pence: amount };
      if (ref.value.trim()) tender.reference = ref.value.trim();
      finish(before.concat([tender]));
    } }));
  }

  function drawPay() {
    var pay = state.pay;
    var body = $("pay-body");
    body.textContent = "";
    if (pay.mode === "cash") {
      $("pay-h").textContent = "Cash: how much did they give?";
      cashButtons(body, pay.total, []);
    } else if (pay.mode === "card") {
      $("pay-h").textContent = "Card";
      cardPart(body, pay.total, []);
    } else {
      $("pay-h").textContent = "Split or from the pool";
      var cover = poolCover();
      var before = [];
      if (cover.pence > 0) {
        var names = [];
        if (cover.units.coffee) names.push(plural(cover.units.coffee, "coffee", "coffees"));
        if (cover.units.meal) names.push(plural(cover.units.meal, "meal", "meals"));
        body.appendChild(el("button", {
          type: "button",
          className: "toggle wide",
          id: "use-pool",
          "aria-pressed": pay.pool ? "true" : "false",
          text: (pay.pool ? "✓ " : "") + "From the pool: " + names.join(" and ") + " (" + money(cover.pence) + ")",
          onclick: function () { pay.pool = pay.pool ? 0 : cover.pence; drawPay(); },
        }));
      } else {
        body.appendChild(el("p", { className: "muted", text: cover.short
          ? "The pay-it-forward pool does not hold enough for this order."
          : "Nothing in this order can come from the pay-it-forward pool." }));
      }
      if (pay.pool) before.push({ method: "pay_it_forward", amount_pence: pay.pool });
      var rest = pay.total - pay.pool;
      if (rest <= 0) {
        body.appendChild(el("button", { type: "button", className: "pay-button cash", id: "pool-done", text: "All from the pool — finish", onclick: function () { finish(before); } }));
        return;
      }
      var cardInput = el("input", { id: "card-part", type: "text", inputmode: "decimal", autocomplete: "off", className: "money-input", value: pay.card ? (pay.card / 100).toFixed(2) : "" });
      body.appendChild(el("div", { className: "field" }, [
        el("label", { for: "card-part", text: "Part on card (£) — the rest in cash" }),
        cardInput,
        el("button", { type: "button", className: "till-button", id: "card-part-set", text: "Split", onclick: function () {
          var amount = parsePounds(cardInput.value);
          if (amount === null || amount <= 0) return payError("Type the card part, such as 5 or 2.50.");
          if (amount >= rest) return payError("The card part must be less than " + money(rest) + ". For all of it, use Card.");
          payError("");
          pay.card = amount;
          drawPay();
          var focus = document.getElementById("card-ref");
          if (focus) focus.focus();
        } }),
      ]));
      if (pay.card && pay.card < rest) {
        var cashDue = rest - pay.card;
        body.appendChild(el("p", { className: "step", text: "Card " + money(pay.card) + ", then cash " + money(cashDue) + "." }));
        var refBox = el("div");
        body.appendChild(refBox);
        var ref = el("input", { id: "card-ref", type: "text", autocomplete: "off", maxlength: "40", className: "money-input" });
        refBox.appendChild(el("div", { className: "field" }, [el("label", { for: "card-ref", text: "Card slip number" }), ref]));
        var wrap = el("div");
        body.appendChild(wrap);
        var cardTender = function () {
          var t = { method: "card", amount_pence: pay.card };
          if (ref.value.trim()) t.reference = ref.value.trim();
          return t;
        };
        var row = el("div", { className: "quick" });
        quickAmounts(cashDue).forEach(function (amount, index) {
          row.appendChild(el("button", {
            type: "button",
            className: "pay-button cash",
            "data-cash": amount,
            text: (index === 0 ? "Exact " : "") + money(amount) + (index === 0 ? " cash" : " cash given"),
            onclick: function () { finish(before.concat([cardTender(), { method: "cash", amount_pence: cashDue, tendered_pence: amount }])); },
          }));
        });
        wrap.appendChild(row);
      } else if (pay.pool) {
        body.appendChild(el("p", { className: "step", text: "The rest: " + money(rest) + "." }));
        cashButtons(body, rest, before);
        cardPart(body, rest, before, "Rest on card — finish");
      }
    }
  }

  function finish(tenders) {
    state.pendingReceipt = null;
    var b = state.basket;
    var sale = {
      uuid: uuid(),
      session_id: state.session.id,
      till_id: state.session.till_id,
      rung_at: new Date().toISOString(),
      lines: b.lines.map(function (l) {
        return { product_id: l.product_id, quantity: l.qty, modifier_ids: l.mods.map(function (m) { return m.id; }), eat_in: l.eatIn };
      }),
      discount_code: b.discount,
      gifts: b.gifts.map(function (g) { return { kind: g.kind, units: g.units }; }),
      tenders: tenders,
    };
    var change = 0;
    tenders.forEach(function (t) { if (t.method === "cash") change += (t.tendered_pence || t.amount_pence) - t.amount_pence; });
    var local = { total: totals().total, change: change, lines: JSON.parse(JSON.stringify(b.lines)), gifts: b.gifts.slice(), tenders: tenders };
    enqueue({ body: sale, queued_at: new Date().toISOString() }).then(
      function () {
        $("pay").close();
        state.basket = emptyBasket();
        state.basket.eatIn = local.lines.length ? local.lines[local.lines.length - 1].eatIn : false;
        state.undo = [];
        state.tab = 0; // the next customer starts where most orders start
        state.pendingReceipt = sale.uuid;
        showDone(local, sale.uuid);
        render();
        countQueue().then(flush).then(refreshMenuSoon);
      },
      function () {
        payError("This sale could not be kept on this tablet. Try again, or write it down and tell your supervisor.");
      }
    );
  }

  function showDone(local, saleUuid) {
    var done = $("done");
    done.hidden = false;
    $("change").textContent = local.change > 0 ? "Give change: " + money(local.change) : "No change to give";
    var receipt = $("receipt");
    receipt.textContent = "";
    var list = el("ul", { className: "receipt-lines" });
    local.lines.forEach(function (l) { list.appendChild(el("li", { text: l.qty + " × " + l.name })); });
    local.gifts.forEach(function (g) { list.appendChild(el("li", { text: g.units + " × pay it forward (" + g.kind + ")" })); });
    receipt.appendChild(list);
    receipt.appendChild(el("p", { className: "receipt-total", text: "Total " + money(local.total) }));
    receipt.appendChild(el("p", { className: "receipt-state", id: "receipt-state", text: state.online ? "Sending…" : "Saved on this tablet. It will be sent when the Wi-Fi is back." }));
    var link = $("receipt-link");
    link.href = "/till/sales/" + saleUuid;
    link.hidden = true;
    done.focus();
  }

  function showReceipt(answer, saleUuid) {
    var stateLine = $("receipt-state");
    if (stateLine) stateLine.textContent = "Sent. Sale number " + (answer && (answer.number || answer.id) || "") + ".";
    if (answer && typeof answer.change_pence === "number") {
      $("change").textContent = answer.change_pence > 0 ? "Give change: " + money(answer.change_pence) : "No change to give";
    }
    var link = $("receipt-link");
    link.href = "/till/sales/" + saleUuid;
    link.hidden = false;
  }

  var refreshTimer = null;
  function refreshMenuSoon() {
    // Stock counts and the pool change with each sale: read the menu again once the queue is sent.
    if (refreshTimer || !state.online || state.waiting) return;
    refreshTimer = setTimeout(function () {
      refreshTimer = null;
      api("/menu").then(function (answer) {
        if (answer.ok) {
          state.menu = answer.data;
          remember("menu", answer.data);
          render();
        }
      }, function () { setOnline(false); });
    }, 300);
  }

  // Sales the server refused (never lost silently): what they were, why, and — for a supervisor —
  // taking them off this tablet once dealt with.
  function showProblems() {
    queued().then(function (all) {
      var refused = all.filter(function (r) { return r.problem; });
      openPick("Sales not recorded", function (body) {
        body.appendChild(el("p", { text: SUPERVISOR
          ? "The server refused these sales. Ring them again if they should count, then remove them here."
          : "The server refused these sales. Show this to your supervisor." }));
        refused.forEach(function (record) {
          var when = new Date(record.body.rung_at);
          var items = record.body.lines.map(function (l) { var p = product(l.product_id); return l.quantity + " × " + (p ? p.short_name : "item"); });
          body.appendChild(el("div", { className: "panel" }, [
            el("p", { className: "step", text: when.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" }) + ": " + (items.join(", ") || "a gift") }),
            el("p", { text: "Why: " + record.problem }),
            SUPERVISOR ? el("button", { type: "button", className: "till-button", text: "Remove from this tablet", onclick: function () {
              dequeue(record.seq).then(countQueue).then(function () { $("pick").close(); if (state.problems) showProblems(); });
            } }) : null,
          ]));
        });
      });
    });
  }

  // --- wiring ----------------------------------------------------------------------------------
  $("undo").addEventListener("click", undo);
  $("problems").addEventListener("click", showProblems);
  $("clear").addEventListener("click", function () { change("clear the order", function (b) { b.lines = []; b.gifts = []; b.discount = null; }); });
  $("discount").addEventListener("click", pickDiscount);
  $("gift").addEventListener("click", pickGift);
  $("takeaway").addEventListener("click", function () {
    change("take away", function (b) { b.eatIn = false; b.lines.forEach(function (l) { l.eatIn = false; }); });
  });
  $("eat-in").addEventListener("click", function () {
    change("eat in", function (b) { b.eatIn = true; b.lines.forEach(function (l) { l.eatIn = true; }); });
  });
  $("pay-cash").addEventListener("click", function () { openPay("cash"); });
  $("pay-card").addEventListener("click", function () { openPay("card"); });
  $("pay-other").addEventListener("click", function () { openPay("other"); });
  $("pay-back").addEventListener("click", function () { $("pay").close(); });
  $("pick-close").addEventListener("click", function () { $("pick").close(); });
  window.addEventListener("online", function () { flush(); });
  window.addEventListener("offline", function () { setOnline(false); });
  setInterval(function () { if (state.waiting || !state.online) flush().then(refreshMenuSoon); }, 4000);

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/static/cafe/till-sw.js", { scope: "/till" }).catch(function () { /* page still works */ });
  }

  // For tests and the curious: how many sales wait.
  window.hubTill = { flush: flush, countQueue: countQueue, enqueue: enqueue, state: state };

  load().then(countQueue).then(flush);
})();
