// The officials' exports page: each export still queued or being built is read again from the
// API every few seconds while the page is visible, and its status, progress and, once built,
// its download link are written in place (no reload).
(function () {
  "use strict";
  const table = document.getElementById("exports");
  if (!table) {
    return;
  }
  const every = Math.max(2, Number(table.dataset.pollSeconds) || 3) * 1000;
  const texts = JSON.parse(document.getElementById("export-texts").textContent);
  const FINAL = ["done", "failed", "expired"];
  let timer = null;

  function pending() {
    return Array.from(table.querySelectorAll("tr[data-export]")).filter(
      (row) => !FINAL.includes(row.dataset.status),
    );
  }

  function show(row, data) {
    row.dataset.status = data.status;
    row.querySelector("[data-status-text]").textContent = texts.statuses[data.status] || data.status;
    const bar = row.querySelector("[data-progress]");
    bar.value = data.progress;
    bar.hidden = FINAL.includes(data.status);
    if (data.status === "done" && data.download && !row.querySelector("[data-download]")) {
      const link = document.createElement("a");
      link.className = "btn btn-small";
      link.href = data.download;
      link.dataset.download = "";
      link.textContent = texts.download;
      const cell = row.querySelector("[data-file]");
      cell.replaceChildren(link);
    }
    if (data.status === "failed" && data.error) {
      const note = document.createElement("span");
      note.className = "notice-error";
      note.textContent = data.error;
      row.querySelector("[data-status-text]").after(document.createElement("br"), note);
    }
  }

  async function refresh() {
    const rows = pending();
    await Promise.all(
      rows.map(async (row) => {
        try {
          const answer = await fetch(row.dataset.url, {
            headers: {Accept: "application/json"},
            credentials: "same-origin",
          });
          if (answer.ok) {
            show(row, await answer.json());
          }
        } catch (error) {
          // The network dropped: the next tick tries again.
        }
      }),
    );
    schedule();
  }

  function schedule() {
    clearTimeout(timer);
    timer = null;
    if (document.visibilityState === "visible" && pending().length) {
      timer = setTimeout(refresh, every);
    }
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
