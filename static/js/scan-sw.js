// The scan app's service worker (checkpoints/pwa.py serves it at /checkpoints/sw.js, scope
// /checkpoints/), so the checkpoint's scan page opens with the network off.
//
// The server sets self.SCAN_APP before this code: {version, precache: [URLs], scanPage:
// {prefix, suffix}}. What the worker does with each request:
// - the files of `precache`, kept at install: from the cache first (their URLs are hashed in
//   production, so a kept copy is never stale; a new deployment brings a new version);
// - a scan page (prefix + a checkpoint code + suffix), opened as a page: from the network, and
//   the copy kept from its last opening when the network fails or takes more than 3 s. Each
//   page is kept under its own URL; a page that now sends elsewhere (signed out) drops every
//   page kept, one now refused drops itself;
// - anything else (the API above all: the page keeps its own data in IndexedDB), not touched:
//   straight to the network, never kept.
"use strict";

const APP = self.SCAN_APP;
const STATIC_CACHE = "scan-static-" + APP.version;
const PAGES_PREFIX = "scan-pages-"; // scan-install.js clears these at sign-out
const PAGES_CACHE = PAGES_PREFIX + APP.version;
const PAGE_TIMEOUT_MS = 3000;
const PRECACHED = new Set(
  APP.precache.map(function (url) {
    return new URL(url, self.location.href).href;
  }),
);

function isScanPage(url) {
  if (url.origin !== self.location.origin) {
    return false;
  }
  const path = url.pathname;
  const { prefix, suffix } = APP.scanPage;
  if (!path.startsWith(prefix) || !path.endsWith(suffix)) {
    return false;
  }
  const code = path.slice(prefix.length, path.length - suffix.length);
  return code.length > 0 && !code.includes("/");
}

// A page is kept by its address without the query, so any opening of it finds it.
function pageKey(url) {
  return url.origin + url.pathname;
}

function dropPages() {
  return caches.keys().then(function (names) {
    return Promise.all(
      names
        .filter(function (name) {
          return name.startsWith(PAGES_PREFIX);
        })
        .map(function (name) {
          return caches.delete(name);
        }),
    );
  });
}

// What a page's answer from the network does to the copy kept of it.
function remember(key, response) {
  if (response.type === "opaqueredirect" || response.redirected) {
    // The sign-in page instead: whoever used the tablet is signed out, and no one sees their
    // pages offline.
    return dropPages();
  }
  return caches.open(PAGES_CACHE).then(function (cache) {
    if (response.status === 200) {
      return cache.put(key, response);
    }
    if (response.status >= 400 && response.status < 500) {
      return cache.delete(key); // no longer this user's checkpoint, or no longer one at all
    }
    return undefined; // the server's trouble: the kept copy stays for the next failure
  });
}

function keptPage(key) {
  return caches.open(PAGES_CACHE).then(function (cache) {
    return cache.match(key);
  });
}

function pageFromNetworkFirst(event) {
  const key = pageKey(new URL(event.request.url));
  // The copy to keep is taken as the answer arrives, before the page reads its body.
  const network = fetch(event.request).then(function (response) {
    return { response: response, copy: response.clone() };
  });
  event.waitUntil(
    network.then(
      function (answer) {
        return remember(key, answer.copy);
      },
      function () {},
    ),
  );
  return new Promise(function (resolve, reject) {
    let settled = false;
    function answer(response) {
      if (!settled) {
        settled = true;
        resolve(response);
      }
    }
    // Slow network: the kept copy now, if there is one; otherwise keep waiting.
    const timer = setTimeout(function () {
      keptPage(key).then(function (kept) {
        if (kept) {
          answer(kept);
        }
      });
    }, PAGE_TIMEOUT_MS);
    network.then(
      function (fresh) {
        clearTimeout(timer);
        answer(fresh.response);
      },
      function (error) {
        clearTimeout(timer);
        keptPage(key).then(function (kept) {
          if (kept) {
            answer(kept);
          } else if (!settled) {
            settled = true;
            reject(error); // never opened here online: the browser's own offline page
          }
        });
      },
    );
  });
}

function fromCacheFirst(request) {
  return caches.open(STATIC_CACHE).then(function (cache) {
    return cache.match(request).then(function (kept) {
      if (kept) {
        return kept;
      }
      return fetch(request).then(function (response) {
        if (response.status === 200) {
          cache.put(request, response.clone());
        }
        return response;
      });
    });
  });
}

self.addEventListener("install", function (event) {
  // All or nothing: a worker missing one file would open a page that cannot scan.
  event.waitUntil(
    caches
      .open(STATIC_CACHE)
      .then(function (cache) {
        return cache.addAll(
          APP.precache.map(function (url) {
            return new Request(url, { cache: "reload" });
          }),
        );
      })
      .then(function () {
        return self.skipWaiting();
      }),
  );
});

// The pages to keep under this version: those the last version kept, and the scan pages open
// now (the first opening happened before any worker, so it is kept here). Each is fetched
// again, as it must name this version's files; the old copy stays if the network fails or is
// slow (pages wait for the activation to end: it must not hang on a bad network).
const KEEP_TIMEOUT_MS = 5000;
function keepPages(oldCaches) {
  return Promise.all([
    Promise.all(
      oldCaches.map(function (name) {
        return caches.open(name).then(function (cache) {
          return cache.keys().then(function (requests) {
            return Promise.all(
              requests.map(function (request) {
                return cache.match(request).then(function (response) {
                  return { key: request.url, old: response };
                });
              }),
            );
          });
        });
      }),
    ),
    self.clients.matchAll({ type: "window", includeUncontrolled: true }),
  ]).then(function (found) {
    const pages = new Map();
    found[0].flat().forEach(function (page) {
      pages.set(page.key, page.old);
    });
    found[1].forEach(function (client) {
      const url = new URL(client.url);
      if (isScanPage(url) && !pages.has(pageKey(url))) {
        pages.set(pageKey(url), null);
      }
    });
    return caches.open(PAGES_CACHE).then(function (cache) {
      return Promise.all(
        Array.from(pages, function ([key, old]) {
          const options = { credentials: "same-origin", redirect: "manual" };
          if (AbortSignal.timeout) {
            options.signal = AbortSignal.timeout(KEEP_TIMEOUT_MS);
          }
          return fetch(key, options)
            .then(function (response) {
              return remember(key, response);
            })
            .catch(function () {
              return old ? cache.put(key, old) : undefined;
            })
            .catch(function () {}); // a page not kept must not keep the worker from working
        }),
      );
    });
  });
}

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches
      .keys()
      .then(function (names) {
        const old = names.filter(function (name) {
          return name.startsWith("scan-") && name !== STATIC_CACHE && name !== PAGES_CACHE;
        });
        const oldPages = old.filter(function (name) {
          return name.startsWith(PAGES_PREFIX);
        });
        return keepPages(oldPages)
          .catch(function () {})
          .then(function () {
            return Promise.all(
              old.map(function (name) {
                return caches.delete(name);
              }),
            );
          });
      })
      .catch(function () {}) // whatever went wrong with the caches, the pages are taken over
      .then(function () {
        return self.clients.claim();
      }),
  );
});

self.addEventListener("fetch", function (event) {
  const request = event.request;
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  if (request.mode === "navigate" && isScanPage(url)) {
    event.respondWith(pageFromNetworkFirst(event));
  } else if (PRECACHED.has(url.href)) {
    event.respondWith(fromCacheFirst(request));
  }
  // Anything else, the API included, goes to the network as if there were no worker.
});
