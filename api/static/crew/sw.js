// The crew app's service worker: the app shell and the last list of orders stay available
// offline. Network first (the server's version wins when there is one), the cache when not.
// Signing out deletes both caches (the page asks with the message "clear").
"use strict";

const SHELL = "bauhof-crew-shell-v1";
const DATA = "bauhof-crew-data-v1";
const FILES = ["/crew/", "/crew/app.js", "/crew/app.css", "/crew/texts.json", "/crew/manifest.json"];
const LIST = "/api/v1/crew/orders";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("message", (event) => {
  if (event.data === "clear") {
    event.waitUntil(caches.keys().then((keys) => Promise.all(keys.map((k) => caches.delete(k)))));
  }
});

async function networkFirst(event, cacheName, key) {
  const request = event.request;
  try {
    const response = await fetch(request);
    if (response.ok) {
      // The worker stays alive until the copy is stored, so "last list" is really the last.
      const copy = response.clone();
      event.waitUntil(caches.open(cacheName).then((c) => c.put(key, copy)));
    }
    return response;
  } catch (err) {
    const cached = await caches.match(key, { cacheName });
    if (cached) return cached;
    throw err;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (FILES.includes(url.pathname)) {
    event.respondWith(networkFirst(event, SHELL, url.pathname));
  } else if (url.pathname === LIST && !url.searchParams.has("ids")) {
    // The whole list (whatever position it was sorted for) is kept under one key.
    event.respondWith(networkFirst(event, DATA, LIST));
  }
});
