/* The till's service worker: keeps the till page, its files, the menu and the pictures, so the till
 * reloads when the café's Wi-Fi is down. Network first (the newest page and menu when online), the
 * kept copy when not. Sales are never cached here: the page queues them in IndexedDB. */
"use strict";

var CACHE = "hub-till-v1";
var SHELL = ["/till", "/static/hub.css", "/static/cafe/till.css", "/static/cafe/till.js", "/static/favicon.svg"];

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      return Promise.all(SHELL.map(function (url) {
        return fetch(url, { credentials: "same-origin" }).then(function (response) {
          if (response.ok && !response.redirected) return cache.put(url, response);
          return null;
        }).catch(function () { return null; });
      }));
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) { return n.indexOf("hub-till-") === 0 && n !== CACHE; }).map(function (n) { return caches.delete(n); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function keep(url) {
  if (url.origin !== self.location.origin) return false;
  var path = url.pathname;
  return path === "/till" || path.indexOf("/static/") === 0 || path === "/api/v1/cafe/menu" ||
    path === "/api/v1/cafe/sessions" || /^\/api\/v1\/cafe\/(products\/\d+\/picture|pictograms\/)/.test(path);
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (!keep(url)) return;
  var key = url.pathname === "/till" ? "/till" : request;
  event.respondWith(
    fetch(request).then(function (response) {
      if (response.ok && !response.redirected && response.type === "basic") {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(key, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(key).then(function (kept) {
        return kept || new Response("Offline, and this page was not kept on the tablet.", { status: 503, headers: { "content-type": "text/plain; charset=utf-8" } });
      });
    })
  );
});
