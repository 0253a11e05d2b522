// Makes the scan page an app that opens offline: registers the service worker
// (static/js/scan-sw.js, served by checkpoints/pwa.py), whose URL and scope the script tag
// carries, and clears the pages the worker kept when staff sign out here, so the next person on
// this tablet cannot open them offline.
(function () {
  "use strict";

  const script = document.currentScript;
  if (!("serviceWorker" in navigator) || !script) {
    return; // an old browser, or plain http: the page works online as before
  }

  navigator.serviceWorker
    .register(script.dataset.worker, { scope: script.dataset.scope })
    .catch(function () {}); // no worker, no offline opening; the page itself is unaffected

  const signOut = document.querySelector("form[data-sign-out]");
  if (signOut && "caches" in window) {
    signOut.addEventListener("submit", function (event) {
      event.preventDefault();
      // The worker keeps pages in caches named "scan-pages-<version>".
      const cleared = caches.keys().then(function (names) {
        return Promise.all(
          names
            .filter(function (name) {
              return name.startsWith("scan-pages-");
            })
            .map(function (name) {
              return caches.delete(name);
            }),
        );
      });
      // Signing out never waits on the cache for long.
      const patience = new Promise(function (resolve) {
        setTimeout(resolve, 1000);
      });
      Promise.race([cleared, patience]).then(
        function () {
          signOut.submit();
        },
        function () {
          signOut.submit();
        },
      );
    });
  }
})();
