// Small behaviours shared by every page. Text shown to users comes from data attributes that
// the server renders, so it is translated with the page.
(function () {
  "use strict";

  // Bring an error summary into view and to screen readers as soon as the page loads.
  const summary = document.querySelector("[data-focus]");
  if (summary) {
    summary.focus();
  }

  // "Copy" buttons next to read-only inputs (the pass link for drivers).
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    const input = document.getElementById(button.dataset.copy);
    if (!input || !navigator.clipboard) {
      return;
    }
    button.hidden = false;
    const label = button.textContent;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(function () {
        button.textContent = button.dataset.copied || label;
        setTimeout(function () {
          button.textContent = label;
        }, 2000);
      });
    });
    input.addEventListener("focus", function () {
      input.select();
    });
  });
})();
