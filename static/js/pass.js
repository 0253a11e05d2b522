// The pass page: live validity countdown, keeping the screen awake while the pass is shown at a
// checkpoint, and the print button.
(function () {
  "use strict";

  const card = document.querySelector("[data-pass]");
  if (!card) {
    return;
  }
  const state = card.dataset.state;
  const usable = state === "valid" || state === "pending";

  // Print: a paper pass counts the same as the screen (docs/architecture.md, "Registration").
  const printButton = card.querySelector("[data-print]");
  if (printButton && typeof window.print === "function") {
    printButton.hidden = false;
    printButton.addEventListener("click", function () {
      window.print();
    });
  }

  // Countdown ----------------------------------------------------------------------------------
  const output = card.querySelector("[data-countdown]");
  const from = Date.parse(card.dataset.validFrom || "");
  const until = Date.parse(card.dataset.validUntil || "");
  const units = {
    d: card.dataset.unitD,
    h: card.dataset.unitH,
    min: card.dataset.unitMin,
    s: card.dataset.unitS,
  };

  function duration(ms) {
    const total = Math.max(0, Math.floor(ms / 1000));
    const d = Math.floor(total / 86400);
    const h = Math.floor((total % 86400) / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    if (d > 0) {
      return d + " " + units.d + " " + h + " " + units.h;
    }
    if (h > 0) {
      return h + " " + units.h + " " + m + " " + units.min;
    }
    return m + " " + units.min + " " + s + " " + units.s;
  }

  let timer = null;
  function tick() {
    const now = Date.now();
    if (now < from) {
      output.textContent = card.dataset.fmtOpens.replace("{time}", duration(from - now));
    } else if (now < until) {
      output.textContent = card.dataset.fmtValid.replace("{time}", duration(until - now));
    } else {
      output.textContent = card.dataset.fmtExpired;
      card.classList.add("is-expired");
      const stamp = card.querySelector("[data-void-stamp]");
      if (stamp) {
        stamp.hidden = false;
      }
      clearInterval(timer);
      releaseWakeLock();
    }
  }
  if (output && usable && !isNaN(from) && !isNaN(until)) {
    tick();
    timer = setInterval(tick, 1000);
  }

  // Screen wake lock: a phone that dims while the driver queues at the checkpoint costs time.
  // Browsers release the lock when the page is hidden, so it is taken again on return.
  // Unsupported browsers (and insecure contexts) simply skip this.
  let wakeLock = null;
  function requestWakeLock() {
    if (!usable || !("wakeLock" in navigator) || document.visibilityState !== "visible") {
      return;
    }
    navigator.wakeLock
      .request("screen")
      .then(function (lock) {
        wakeLock = lock;
      })
      .catch(function () {
        wakeLock = null;
      });
  }
  function releaseWakeLock() {
    if (wakeLock) {
      wakeLock.release().catch(function () {});
      wakeLock = null;
    }
  }
  requestWakeLock();
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && !card.classList.contains("is-expired")) {
      requestWakeLock();
    }
  });
})();
