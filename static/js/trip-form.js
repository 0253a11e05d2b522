// The register-trip form: cascading region pickers fed by the regions API, a chip list for the
// 14-day travel history, and adding and removing co-rider rows. Without this script the form
// still works: region codes are typed and the rows rendered by the server are used.
(function () {
  "use strict";

  const form = document.getElementById("trip-form");
  if (!form) {
    return;
  }

  // Regions ------------------------------------------------------------------------------------

  const cache = new Map();
  function fetchRegions(api, query) {
    const url = api + "?" + query + "&limit=1000";
    if (!cache.has(url)) {
      const request = fetch(url, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      }).then(function (response) {
        if (!response.ok) {
          throw new Error("regions: HTTP " + response.status);
        }
        return response.json();
      }).then(function (body) {
        return body.results || [];
      });
      request.catch(function () {
        cache.delete(url);
      });
      cache.set(url, request);
    }
    return cache.get(url);
  }

  // The code of a region's province and city, read from the code itself (GB/T 2260).
  function ancestors(code) {
    return {
      province: code.slice(0, 2) + "0000",
      city: code.slice(0, 4) + "00",
    };
  }

  function initPicker(picker) {
    const api = picker.dataset.api;
    const multi = picker.dataset.mode === "multi";
    const input = picker.querySelector("input");
    const selectsBox = picker.querySelector("[data-selects]");
    const status = picker.querySelector("[data-picker-status]");
    const picked = picker.querySelector("[data-picked]");
    const label = picker.querySelector("[data-picker-label]");
    const chips = picker.querySelector("[data-chips]");
    const addButton = picker.querySelector("[data-add-chip]");
    const selects = {
      province: picker.querySelector('select[data-level="province"]'),
      city: picker.querySelector('select[data-level="city"]'),
      county: picker.querySelector('select[data-level="county"]'),
    };
    const names = new Map();

    function fill(select, regions, placeholder) {
      select.replaceChildren();
      const empty = document.createElement("option");
      empty.value = "";
      empty.textContent = placeholder;
      select.append(empty);
      regions.forEach(function (region) {
        names.set(region.code, region.full_name);
        const option = document.createElement("option");
        option.value = region.code;
        option.textContent = region.name;
        select.append(option);
      });
      select.disabled = regions.length === 0;
    }

    function placeholder(level) {
      return picker.dataset["choose" + level[0].toUpperCase() + level.slice(1)];
    }

    function reset(select, level) {
      fill(select, [], placeholder(level));
      select.disabled = true;
    }

    // The deepest region chosen so far: a province or city counts when nothing below is chosen.
    function chosen() {
      return selects.county.value || selects.city.value || selects.province.value || "";
    }

    function changed() {
      const code = chosen();
      if (multi) {
        addButton.disabled = code === "";
        return;
      }
      input.value = code;
      if (picked) {
        picked.textContent = code ? names.get(code) || code : "";
      }
    }

    function loadChildren(parentCode, select, level) {
      status.textContent = picker.dataset.loading;
      return fetchRegions(api, "parent=" + encodeURIComponent(parentCode)).then(function (list) {
        fill(select, list, placeholder(level));
        status.textContent = "";
      });
    }

    function failed() {
      // The API is unreachable: fall back to typing the code, which the server checks.
      selectsBox.hidden = true;
      input.type = "text";
      if (label) {
        label.htmlFor = input.id;
      }
      status.textContent = picker.dataset.failed;
    }

    selects.province.addEventListener("change", function () {
      reset(selects.city, "city");
      reset(selects.county, "county");
      changed();
      if (selects.province.value) {
        loadChildren(selects.province.value, selects.city, "city").then(changed, failed);
      }
    });
    selects.city.addEventListener("change", function () {
      reset(selects.county, "county");
      changed();
      if (selects.city.value) {
        loadChildren(selects.city.value, selects.county, "county").then(changed, failed);
      }
    });
    selects.county.addEventListener("change", changed);

    // Chips (travel history) -------------------------------------------------------------------
    function chipCodes() {
      return Array.from(chips.querySelectorAll("[data-code]")).map(function (chip) {
        return chip.dataset.code;
      });
    }
    function syncChips() {
      input.value = chipCodes().join(", ");
    }
    function bindChip(chip) {
      const remove = chip.querySelector("[data-remove-chip]");
      remove.hidden = false;
      remove.addEventListener("click", function () {
        chip.remove();
        syncChips();
        selects.province.focus();
      });
    }
    function addChip(code) {
      if (chipCodes().includes(code)) {
        return;
      }
      const chip = document.createElement("li");
      chip.className = "chip";
      chip.dataset.code = code;
      const text = document.createElement("span");
      text.textContent = names.get(code) || code;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "chip-remove";
      remove.dataset.removeChip = "";
      remove.setAttribute("aria-label", picker.dataset.removeLabel + " " + text.textContent);
      remove.textContent = "×";
      chip.append(text, " ", remove);
      chips.append(chip);
      bindChip(chip);
      syncChips();
    }
    if (multi) {
      chips.querySelectorAll("[data-code]").forEach(bindChip);
      addButton.addEventListener("click", function () {
        const code = chosen();
        if (code) {
          addChip(code);
          selects.province.value = "";
          reset(selects.city, "city");
          reset(selects.county, "county");
          changed();
        }
      });
    }

    // Start: load the provinces, then show the selects and hide the typed code. A code already
    // there (the form came back with errors) is selected level by level.
    reset(selects.city, "city");
    reset(selects.county, "county");
    status.textContent = picker.dataset.loading;
    fetchRegions(api, "level=province").then(function (provinces) {
      fill(selects.province, provinces, placeholder("province"));
      status.textContent = "";
      const existing = multi ? "" : input.value.trim();
      const canSelect = /^[1-9][0-9]{5}$/.test(existing);
      selectsBox.hidden = false;
      input.type = "hidden";
      if (label) {
        label.htmlFor = selects.province.id;
      }
      // The errors and help the server tied to the hidden input now describe the selects.
      const described = input.getAttribute("aria-describedby");
      if (described) {
        Object.values(selects).forEach(function (select) {
          select.setAttribute("aria-describedby", described);
        });
      }
      if (!canSelect) {
        return;
      }
      const up = ancestors(existing);
      selects.province.value = up.province;
      if (existing === up.province || !selects.province.value) {
        return;
      }
      return loadChildren(up.province, selects.city, "city").then(function () {
        selects.city.value = up.city;
        if (existing === up.city || !selects.city.value) {
          return;
        }
        return loadChildren(up.city, selects.county, "county").then(function () {
          selects.county.value = existing;
        });
      });
    }).catch(failed);
  }

  form.querySelectorAll("[data-region-picker]").forEach(initPicker);

  // Co-rider rows --------------------------------------------------------------------------------

  form.querySelectorAll("[data-formset]").forEach(function (box) {
    const prefix = box.dataset.prefix;
    const max = parseInt(box.dataset.max, 10);
    const total = box.querySelector('input[name="' + prefix + '-TOTAL_FORMS"]');
    const rows = box.querySelector("[data-rows]");
    const template = box.querySelector("template[data-empty-row]");
    const addButton = box.querySelector("[data-add-row]");
    const pattern = new RegExp(prefix + "-(\\d+|__prefix__)-");

    // Rows are numbered 0..n-1 without gaps: Django counts TOTAL_FORMS against its maximum.
    function renumber() {
      const all = rows.querySelectorAll("[data-row]");
      all.forEach(function (row, index) {
        row.querySelectorAll("[name], [id], label[for]").forEach(function (el) {
          ["name", "id", "for"].forEach(function (attr) {
            const value = el.getAttribute(attr);
            if (value) {
              el.setAttribute(attr, value.replace(pattern, prefix + "-" + index + "-"));
            }
          });
        });
      });
      total.value = String(all.length);
      addButton.disabled = all.length >= max;
    }

    function bindRow(row) {
      const remove = row.querySelector("[data-remove-row]");
      remove.hidden = false;
      remove.addEventListener("click", function () {
        row.remove();
        renumber();
        addButton.focus();
      });
    }

    rows.querySelectorAll("[data-row]").forEach(bindRow);
    addButton.hidden = false;
    addButton.addEventListener("click", function () {
      if (rows.querySelectorAll("[data-row]").length >= max) {
        return;
      }
      const row = template.content.firstElementChild.cloneNode(true);
      rows.append(row);
      bindRow(row);
      renumber();
      row.dispatchEvent(new CustomEvent("formset:added", { bubbles: true }));
      const first = row.querySelector("input");
      if (first) {
        first.focus();
      }
    });
    renumber();
  });
})();
