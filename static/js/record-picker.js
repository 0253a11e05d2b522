// The dispatcher's record pickers on the register-trip form: the plate and the driver's name
// search the company's vehicles and drivers as one types (GET /api/v1/vehicles/?q=,
// /api/v1/drivers/?q=, which also find a driver by the last digits of the ID number or phone).
// Choosing a record fills the fields and its hidden id, and the registration then takes the
// record: the masked ID number and phone shown are not read. An editable combobox with a listbox
// (WAI-ARIA): arrow keys move, Enter chooses, Escape closes. Without this script the fields are
// typed, and a new plate or person typed is added to the company's records as before.
(function () {
  "use strict";

  // One request per pause in typing: the search waits this long after the last keystroke.
  const DELAY_MS = 150;
  const MAX_MATCHES = 8;
  // The API refuses a longer search (FleetSearchSerializer).
  const MAX_QUERY = 50;

  // The picker's own ids are numbered apart from the fields': co-rider rows are renumbered
  // (trip-form.js) as they are added and removed, and these must not follow.
  let pickers = 0;

  // A field of the box by its name, in a formset row too ("co_riders-0-name" for "name").
  function field(box, name) {
    return name ? box.querySelector('[name="' + name + '"], [name$="-' + name + '"]') : null;
  }

  function initPicker(box) {
    const kind = box.dataset.recordPicker;
    const input = field(box, box.dataset.input);
    const hidden = box.querySelector("input[data-record-id]");
    if (!input || !hidden || input.getAttribute("role") === "combobox") {
      return;
    }
    const uid = "record-picker-" + ++pickers;
    const prefix = field(box, box.dataset.prefix);
    const filled = [field(box, box.dataset.idNumber), field(box, box.dataset.phone)].filter(
      Boolean
    );
    const help = box.querySelector("[data-picker-help]");

    // The input and its list share a box, so the list opens right under the input.
    const wrap = document.createElement("div");
    wrap.className = "combobox";
    input.before(wrap);
    wrap.append(input);
    const list = document.createElement("ul");
    list.id = uid + "-list";
    list.className = "combobox-list";
    list.setAttribute("role", "listbox");
    const label = document.querySelector('label[for="' + input.id + '"]');
    if (label) {
      label.id = label.id || uid + "-label";
      list.setAttribute("aria-labelledby", label.id);
    }
    list.hidden = true;
    wrap.append(list);

    const status = document.createElement("p");
    status.className = "help combobox-status";
    status.id = uid + "-status";
    status.setAttribute("aria-live", "polite");
    const chosen = document.createElement("p");
    chosen.className = "record-chosen";
    chosen.hidden = true;
    const chosenText = document.createElement("span");
    chosenText.textContent = box.dataset.chosen;
    const change = document.createElement("button");
    change.type = "button";
    change.className = "btn btn-small btn-quiet";
    change.textContent = box.dataset.change;
    chosen.append(chosenText, " ", change);
    (input.closest(".plate-input") || wrap).after(status, chosen);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("autocomplete", "off");
    const described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (help) {
      help.hidden = false;
      described.push(help.id);
    }
    described.push(status.id);
    input.setAttribute("aria-describedby", described.join(" "));

    let records = [];
    let active = -1;
    let timer = 0;
    // Answers may come back out of order: only the latest search's answer is shown.
    let latest = 0;
    const answers = new Map();

    function open() {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      const options = list.querySelectorAll("[role=option]");
      options.forEach(function (option, i) {
        option.setAttribute("aria-selected", String(i === index));
      });
      active = index;
      if (index < 0) {
        input.removeAttribute("aria-activedescendant");
        return;
      }
      input.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    }

    function optionFor(record, index) {
      const option = document.createElement("li");
      option.id = list.id + "-" + index;
      option.className = "combobox-option";
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      const main = document.createElement("strong");
      const detail = document.createElement("span");
      if (kind === "vehicle") {
        main.textContent = record.plate;
        detail.textContent = record.description || "";
      } else {
        main.textContent = record.name;
        detail.textContent = record.id_number + " · " + record.phone;
      }
      option.append(main, detail);
      option.addEventListener("click", function () {
        choose(record);
      });
      return option;
    }

    function show(found) {
      records = found.slice(0, MAX_MATCHES);
      list.replaceChildren.apply(list, records.map(optionFor));
      highlight(-1);
      if (records.length === 0) {
        close();
        status.textContent = box.dataset.noMatch;
        return;
      }
      status.textContent = "";
      open();
    }

    function search(query) {
      const mine = ++latest;
      if (answers.has(query)) {
        show(answers.get(query));
        return;
      }
      const url = box.dataset.api + "?limit=" + MAX_MATCHES + "&q=" + encodeURIComponent(query);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(kind + " search: HTTP " + response.status);
          }
          return response.json();
        })
        .then(function (body) {
          const found = body.results || [];
          answers.set(query, found);
          if (mine === latest && document.activeElement === input) {
            show(found);
          }
        })
        .catch(function () {
          if (mine === latest) {
            close();
            status.textContent = box.dataset.failed;
          }
        });
    }

    function query() {
      return input.value.trim().slice(0, MAX_QUERY);
    }

    function markChosen(isChosen) {
      chosen.hidden = !isChosen;
      filled.forEach(function (field) {
        field.readOnly = isChosen;
      });
    }

    function choose(record) {
      hidden.value = String(record.id);
      if (kind === "vehicle") {
        const province = record.plate.charAt(0);
        const known = prefix && Array.from(prefix.options).some(function (o) {
          return o.value === province;
        });
        if (known) {
          prefix.value = province;
          input.value = record.plate.slice(1);
        } else {
          input.value = record.plate;
        }
      } else {
        input.value = record.name;
        filled[0].value = record.id_number;
        filled[1].value = record.phone;
      }
      latest++;
      clearTimeout(timer);
      close();
      status.textContent = "";
      markChosen(true);
    }

    // A choice undone, or the fields edited by hand after it: the typed values are used, and the
    // masked details shown for the record are no one's real ones, so they go.
    function unchoose() {
      hidden.value = "";
      filled.forEach(function (field) {
        field.value = "";
      });
      markChosen(false);
    }

    input.addEventListener("input", function () {
      if (hidden.value) {
        unchoose();
      }
      clearTimeout(timer);
      const text = query();
      if (!text) {
        latest++;
        close();
        status.textContent = "";
        return;
      }
      timer = setTimeout(function () {
        search(text);
      }, DELAY_MS);
    });

    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (list.hidden) {
          if (records.length && query()) {
            open();
          }
          return;
        }
        event.preventDefault();
        // Down from the last option and up from the first wrap round, as in the ARIA examples.
        const count = records.length;
        const next = event.key === "ArrowDown" ? active + 1 : (active < 0 ? count : active) - 1;
        highlight((next + count) % count);
      } else if (event.key === "Enter" && !list.hidden && active >= 0) {
        event.preventDefault();
        choose(records[active]);
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        close();
      }
    });

    input.addEventListener("blur", close);
    // A press on an option must not take the focus from the input (which would close the list
    // before the click lands); taps on a tablet give the same mousedown.
    list.addEventListener("mousedown", function (event) {
      event.preventDefault();
    });

    if (prefix) {
      prefix.addEventListener("change", function () {
        if (hidden.value) {
          unchoose();
        }
      });
    }

    change.addEventListener("click", function () {
      unchoose();
      input.value = "";
      status.textContent = "";
      input.focus();
    });

    // The form came back with errors after a record was chosen: it still is.
    markChosen(hidden.value !== "");
  }

  document.querySelectorAll("#trip-form [data-record-picker]").forEach(initPicker);
  // A co-rider row added (trip-form.js) gets its picker.
  document.addEventListener("formset:added", function (event) {
    event.target.querySelectorAll("[data-record-picker]").forEach(initPicker);
  });
})();
