// An import's page: while its rows are checked or registered, the import is read again from
// the API every two seconds (while the page is visible) and its status, progress and counts are
// written in place; once the step is over the page is loaded again, with the errors or the
// trips registered.
(function () {
  "use strict";
  const box = document.getElementById("import-status");
  if (!box) {
    return;
  }
  const statuses = JSON.parse(document.getElementById("import-statuses").textContent || "{}");
  const IN_FLIGHT = ["validating", "registering"];
  const EVERY = 2000;
  let timer = null;

  function show(data) {
    box.querySelector("[data-status-text]").textContent = statuses[data.status] || data.status;
    const bar = box.querySelector("[data-progress]");
    bar.value = data.progress;
    bar.textContent = data.progress + "%";
    bar.hidden = !IN_FLIGHT.includes(data.status);
    box.querySelectorAll("[data-count]").forEach((cell) => {
      cell.textContent = data[cell.dataset.count];
    });
  }

  async function refresh() {
    try {
      const answer = await fetch(box.dataset.url, {
        headers: {Accept: "application/json"},
        credentials: "same-origin",
      });
      if (answer.ok) {
        const data = await answer.json();
        show(data);
        if (!IN_FLIGHT.includes(data.status)) {
          window.location.reload();
          return;
        }
      }
    } catch (error) {
      // The network dropped: the next tick tries again.
    }
    schedule();
  }

  function schedule() {
    clearTimeout(timer);
    if (document.visibilityState === "visible") {
      timer = setTimeout(refresh, EVERY);
    }
  }

  if (!IN_FLIGHT.includes(box.dataset.status)) {
    return;
  }
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      refresh();
    } else {
      clearTimeout(timer);
    }
  });
  schedule();
})();
