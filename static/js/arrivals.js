// The consignee's arrivals page. Works without it; with it, a form cannot be sent twice (a
// double tap on a slow phone network), and on a desk with a handheld scanner the find field is
// ready for the next scan. Labels come from data attributes, translated with the page.
(function () {
  "use strict";

  const forms = document.querySelectorAll("[data-arrival-find], .arrival-confirm");
  forms.forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.busy) {
        event.preventDefault();
        return;
      }
      form.dataset.busy = "1";
      const button = form.querySelector("[data-busy-label]");
      if (button) {
        button.dataset.label = button.innerHTML;
        button.textContent = button.dataset.busyLabel;
        button.setAttribute("aria-disabled", "true");
      }
    });
  });

  // Coming back with the browser's back button shows the page as it was left: ready again.
  window.addEventListener("pageshow", function () {
    forms.forEach(function (form) {
      delete form.dataset.busy;
      const button = form.querySelector("[data-busy-label]");
      if (button && button.dataset.label) {
        button.innerHTML = button.dataset.label;
        button.removeAttribute("aria-disabled");
      }
    });
  });

  const field = document.getElementById("arrival-code");
  if (!field) {
    return;
  }
  // A keyboard-wedge scanner types into whatever has focus. On a desk (a fine pointer), start
  // in the field; on a phone that would open the keyboard over the list, so do not.
  const desk = window.matchMedia && window.matchMedia("(pointer: fine)").matches;
  if (desk && document.activeElement === document.body) {
    field.focus();
  }
  // A scan that starts while nothing has focus (after a click on the page) goes to the field.
  document.addEventListener("keydown", function (event) {
    if (
      document.activeElement === document.body &&
      event.key.length === 1 &&
      !event.ctrlKey &&
      !event.metaKey &&
      !event.altKey
    ) {
      field.focus();
    }
  });
})();
