// The officials' dashboard: the figures are read again from the stats API every few seconds
// while the page is visible, and written in place (no reload). The API answers from the same
// selectors the page was drawn from, so a figure never changes meaning between the two.
(function () {
  "use strict";
  const root = document.getElementById("dashboard");
  if (!root) {
    return;
  }
  const url = root.dataset.statsUrl;
  const every = Math.max(10, Number(root.dataset.refreshSeconds) || 15) * 1000;
  const updated = root.querySelector("[data-updated]");
  const stale = root.querySelector("[data-stale]");
  let timer = null;

  function value(data, path) {
    return path.split(".").reduce((node, key) => (node == null ? undefined : node[key]), data);
  }

  function show(data) {
    root.querySelectorAll("[data-figure]").forEach((el) => {
      let v = value(data, el.dataset.figure);
      if (v === undefined && el.dataset.figure.startsWith("refusals.")) {
        v = 0; // a reason with no refusal is not in the answer
      }
      if (el.dataset.format === "percent") {
        el.textContent = v == null ? root.dataset.textNone : Math.round(v * 100) + "%";
      } else if (v !== undefined) {
        el.textContent = String(v);
      }
    });
    (data.checkpoints || []).forEach((row) => {
      const tr = root.querySelector(`tr[data-checkpoint="${CSS.escape(row.code)}"]`);
      if (!tr) {
        return;
      }
      tr.querySelectorAll("[data-column]").forEach((td) => {
        td.textContent = String(row[td.dataset.column]);
      });
    });
    const at = new Date(data.updated_at);
    updated.dateTime = data.updated_at;
    updated.textContent = at.toLocaleTimeString(document.documentElement.lang, {
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hour12: false,
    });
    stale.hidden = true;
    root.dataset.refreshed = String(Number(root.dataset.refreshed || 0) + 1);
  }

  async function refresh() {
    try {
      const answer = await fetch(url, {
        headers: {Accept: "application/json"},
        credentials: "same-origin",
      });
      if (!answer.ok) {
        throw new Error(String(answer.status));
      }
      show(await answer.json());
    } catch (error) {
      stale.textContent = root.dataset.textStale;
      stale.hidden = false;
    }
  }

  function schedule() {
    clearInterval(timer);
    timer = null;
    if (document.visibilityState === "visible") {
      timer = setInterval(refresh, every);
    }
  }

  // The wall screen: full screen on a press (browsers allow it only from a gesture), and a
  // fresh page once a day, so that a screen left on for weeks starts clean.
  if (document.body.classList.contains("wall")) {
    const full = root.querySelector("[data-fullscreen]");
    if (full && document.fullscreenEnabled) {
      full.hidden = false;
      full.addEventListener("click", () => document.documentElement.requestFullscreen());
    }
    setTimeout(() => window.location.reload(), 24 * 3600 * 1000);
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      refresh();
    }
    schedule();
  });
  schedule();
})();
