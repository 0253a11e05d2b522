// The checkpoint's scan page (docs/architecture.md, "Scanning at the checkpoint"): read a pass code
// from the camera, a handheld (keyboard-wedge) scanner or a lookup by plate or pass number, send it
// to the scan API and show the verdict across the screen with a sound and a vibration of its own.
//
// A line of trucks waits on this page, so it never blocks on the network. Each scan carries a
// client scan id (a UUID) from the moment it is read; a scan whose request fails or times out is
// kept (in IndexedDB, static/js/scan-store.js, so a reload, a closed tab or a restarted browser
// loses nothing) and sent again with the SAME id, which the API records once and answers the
// same. With no answer in OFFLINE_AFTER_MS, or while the network is down, the verdict is decided
// on the tablet (static/js/scan-offline.js) from the checkpoint's bundle of passes, synced every
// minute while online, and the scan is sent with that verdict once the network is back
// (docs/architecture.md, "Offline"). Words come from the JSON the server renders with
// the page (#scan-config), translated there.
(function () {
  "use strict";

  const app = document.getElementById("scan-app");
  const configNode = document.getElementById("scan-config");
  if (!app || !configNode) {
    return;
  }
  const config = JSON.parse(configNode.textContent);
  const T = config.texts;
  const URLS = config.urls;
  const LANG = document.documentElement.lang || undefined;

  const STORE = "passcode.scan." + config.checkpoint + ".";
  const RECENT_MAX = 20;
  // A handheld scanner or a shaky hand can read one code twice in a row: the same code while its
  // first scan is still on its way is the same scan, not a second truck.
  const DUPLICATE_MS = 2000;
  // A code held in front of the camera is read again and again; it is checked once while it
  // stays in view (each sighting renews this), so a truck is not refused as "already inside"
  // by its own second reading.
  const CAMERA_REPEAT_MS = 20000;
  const REQUEST_TIMEOUT_MS = 8000;
  const SLOW_MS = 1500;
  const RETRY_TICK_MS = 3000;
  // A scan with no answer in this time is decided on the tablet: a truck does not wait longer.
  const OFFLINE_AFTER_MS = 3000;
  // Hysteresis of the automatic switch (as pretixSCAN's): offline once 2 of the last 5 requests
  // failed, online again after 2 in a row succeed; no button to press.
  const HEALTH_WINDOW = 5;
  const FAILS_TO_OFFLINE = 2;
  const SUCCESSES_TO_ONLINE = 2;
  const SYNC_MS = 60000; // the bundle's delta, while online
  const PROBE_MS = 10000; // while offline, a small request to notice the network's return
  const BUNDLE_TIMEOUT_MS = 20000; // a whole bundle is a few hundred kilobytes
  const MINUTE_MS = 60000;
  const DAY_MS = 24 * 60 * MINUTE_MS;

  // -------------------------------------------------------------------------------------------
  // Small helpers

  function fmt(text, values) {
    return String(text).replace(/%\((\w+)\)s/g, function (match, key) {
      return values[key] === undefined || values[key] === null ? "" : String(values[key]);
    });
  }

  function load(key, fallback) {
    try {
      const value = JSON.parse(window.localStorage.getItem(STORE + key));
      return value === null || value === undefined ? fallback : value;
    } catch (error) {
      return fallback;
    }
  }

  function save(key, value) {
    try {
      window.localStorage.setItem(STORE + key, JSON.stringify(value));
    } catch (error) {
      // Private mode or a full store: the page works on, it only forgets on reload.
    }
  }

  function uuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    // randomUUID needs a secure context; getRandomValues does not.
    const bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  // Every time is shown in the deployment's zone (config.time_zone), not in the zone the
  // tablet's clock happens to be set to: the times on the screen are the city's.
  function timeText(iso, withDate) {
    const date = new Date(iso);
    if (!iso || isNaN(date.getTime())) {
      return "";
    }
    const options = withDate
      ? { month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" }
      : { hour: "2-digit", minute: "2-digit", second: "2-digit" };
    options.hourCycle = "h23";
    options.timeZone = config.time_zone;
    try {
      return date.toLocaleString(LANG, options);
    } catch (error) {
      return date.toLocaleString(undefined, options);
    }
  }

  // Marks on the page's timeline (camera pressed, code decoded, verdict painted), read by the
  // scan page's benchmark (benchmarks/scanpage.py) and by anyone in the browser's tools.
  function mark(name) {
    if (window.performance && typeof window.performance.mark === "function") {
      window.performance.mark(name);
    }
  }

  function shortToken(token) {
    return token.length > 14 ? token.slice(0, 8) + "…" + token.slice(-4) : token;
  }

  function slot(root, name) {
    return root.querySelector('[data-slot="' + name + '"]');
  }

  function setText(root, name, text) {
    const node = slot(root, name);
    if (node) {
      node.textContent = text === undefined || text === null ? "" : String(text);
    }
  }

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : app.dataset.csrf;
  }

  // The answer to an API call: {ok, status, data}. Throws when no answer came (network down,
  // request aborted, time-out): the caller decides whether to keep the work for later. Every
  // call tells the network's health (``health``) whether it got an answer; a 5xx from the
  // gateway or the server counts as none (the server could not decide).
  async function api(method, url, body, timeoutMs) {
    const controller = new AbortController();
    const timer = setTimeout(function () {
      controller.abort();
    }, timeoutMs || REQUEST_TIMEOUT_MS);
    try {
      const response = await fetch(url, {
        method: method,
        credentials: "same-origin",
        headers: {
          Accept: "application/json",
          "Content-Type": "application/json",
          "X-CSRFToken": csrfToken(),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
      });
      let data = {};
      try {
        data = (await response.json()) || {};
      } catch (error) {
        data = {};
      }
      health.note(response.status < 500);
      return { ok: response.ok, status: response.status, data: data };
    } catch (error) {
      health.note(false);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  // -------------------------------------------------------------------------------------------
  // The network's health, from the answers the page's own requests get: offline after
  // FAILS_TO_OFFLINE of the last HEALTH_WINDOW failed (or the browser says it is offline),
  // online again after SUCCESSES_TO_ONLINE in a row. While offline, scans are decided on the
  // tablet at once, without waiting on a request first.

  const health = {
    results: [],
    offline: navigator.onLine === false,
    streak: 0,
    listeners: [],
    note: function (ok) {
      this.results.push(ok);
      this.results = this.results.slice(-HEALTH_WINDOW);
      if (this.offline) {
        this.streak = ok ? this.streak + 1 : 0;
        if (this.streak >= SUCCESSES_TO_ONLINE && navigator.onLine !== false) {
          this.set(false);
        }
      } else if (
        this.results.filter(function (result) {
          return !result;
        }).length >= FAILS_TO_OFFLINE
      ) {
        this.set(true);
      }
    },
    set: function (offline) {
      if (offline === this.offline) {
        return;
      }
      this.offline = offline;
      this.results = [];
      this.streak = 0;
      this.listeners.forEach(function (listener) {
        listener(offline);
      });
    },
  };

  // The messages of one field at fault, however nested the API gave them.
  function fieldMessages(value) {
    if (Array.isArray(value)) {
      return value.flatMap(fieldMessages);
    }
    if (value && typeof value === "object") {
      return Object.values(value).flatMap(fieldMessages);
    }
    return value === undefined || value === null ? [] : [String(value)];
  }

  // The error's message, with the messages of the fields at fault (each names its field).
  function errorText(result) {
    const data = result.data || {};
    const fields = data.fields || {};
    const parts = [data.detail || String(result.status)];
    Object.keys(fields).forEach(function (name) {
      parts.push.apply(parts, fieldMessages(fields[name]));
    });
    return parts.join(" ");
  }

  function clearFieldErrors(form) {
    form.querySelectorAll("[data-field-errors]").forEach(function (node) {
      node.remove();
    });
    form.querySelectorAll(".has-error").forEach(function (node) {
      node.classList.remove("has-error");
    });
    form.querySelectorAll("[aria-invalid]").forEach(function (node) {
      node.removeAttribute("aria-invalid");
      node.removeAttribute("aria-describedby");
    });
  }

  // The API's field messages name their field ("Enter the number plate."), so each is shown as
  // the API wrote it: above its own input when the form has one. Returns the error's message
  // with the messages of fields the form does not show, for the form's summary.
  function showFieldErrors(form, result) {
    clearFieldErrors(form);
    const data = result.data || {};
    const fields = data.fields || {};
    const rest = [data.detail || String(result.status)];
    let first = null;
    Object.keys(fields).forEach(function (name) {
      const messages = fieldMessages(fields[name]);
      const element = form.elements.namedItem(name);
      const input = element instanceof RadioNodeList ? element[0] : element;
      const field = input && input.closest(".field");
      if (!field) {
        rest.push.apply(rest, messages);
        return;
      }
      const list = document.createElement("ul");
      list.className = "field-errors";
      list.dataset.fieldErrors = name;
      list.id = "errors-" + (form.id || form.dataset.form) + "-" + name;
      messages.forEach(function (message) {
        const item = document.createElement("li");
        item.textContent = message;
        list.appendChild(item);
      });
      field.classList.add("has-error");
      (input.type === "radio" ? field.querySelector(".radio-row") || input : input).before(list);
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", list.id);
      first = first || input;
    });
    if (first) {
      first.focus();
    }
    return rest.join(" ");
  }

  // -------------------------------------------------------------------------------------------
  // Elements

  const scanner = document.getElementById("scanner-input");
  const scannerForm = document.getElementById("scanner-form");
  const netStatus = document.getElementById("net-status");
  const banner = document.getElementById("offline-banner");
  const verdict = document.getElementById("verdict");
  const walkIn = document.getElementById("walk-in");
  const walkInForm = document.getElementById("walk-in-form");
  const queuePanel = document.getElementById("queue-panel");
  const queueList = document.getElementById("queue-list");
  const recentList = document.getElementById("recent-list");
  const recentEmpty = document.getElementById("recent-empty");
  const lookupForm = document.getElementById("lookup-form");
  const lookupInput = document.getElementById("lookup-input");
  const lookupStatus = document.getElementById("lookup-status");
  const lookupResults = document.getElementById("lookup-results");
  const cameraToggle = document.getElementById("camera-toggle");
  const cameraView = document.getElementById("camera-view");
  const cameraStatus = document.getElementById("camera-status");
  const templates = {
    lookup: document.getElementById("lookup-item"),
    queue: document.getElementById("queue-item"),
    recent: document.getElementById("recent-item"),
  };

  function fromTemplate(template) {
    return template.content.firstElementChild.cloneNode(true);
  }

  // -------------------------------------------------------------------------------------------
  // Focus: the scanner field holds the focus, so a handheld scanner's keystrokes always land in
  // it; it is given back after a tap or click elsewhere, but never taken from another field
  // someone is typing in, and never from a keyboard user moving with Tab.

  function typingElsewhere() {
    const active = document.activeElement;
    return (
      active &&
      active !== scanner &&
      (active.isContentEditable || active.matches("input, textarea, select"))
    );
  }

  function refocus() {
    if (!typingElsewhere() && document.activeElement !== scanner) {
      scanner.focus({ preventScroll: true });
    }
  }

  document.addEventListener("click", function (event) {
    if (event.detail > 0) {
      setTimeout(refocus, 0);
    }
  });
  window.addEventListener("focus", function () {
    setTimeout(refocus, 0);
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      setTimeout(refocus, 0);
      requestWakeLock();
      sync(); // the bundle's delta, at once, on coming back to the page
    }
  });

  // The tablet stays awake at the checkpoint; browsers without a wake lock just skip this.
  function requestWakeLock() {
    if ("wakeLock" in navigator && document.visibilityState === "visible") {
      navigator.wakeLock.request("screen").catch(function () {});
    }
  }
  requestWakeLock();

  // -------------------------------------------------------------------------------------------
  // Sound and vibration, different for each verdict, so staff know the answer without looking.
  // Browsers start audio only after a user gesture: the first tap or key press unlocks it.

  let audio = null;
  function unlockAudio() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!audio && Context) {
      try {
        audio = new Context();
      } catch (error) {
        audio = null;
      }
    }
    if (audio && audio.state === "suspended") {
      audio.resume().catch(function () {});
    }
  }
  document.addEventListener("pointerdown", unlockAudio, { passive: true });
  document.addEventListener("keydown", unlockAudio);

  const SOUNDS = {
    admit: [[880, 0.12, "sine"]],
    admit_with_test: [
      [660, 0.14, "triangle"],
      [660, 0.14, "triangle"],
    ],
    refuse: [
      [220, 0.3, "square"],
      [220, 0.3, "square"],
      [220, 0.3, "square"],
    ],
  };
  const VIBRATIONS = {
    admit: [80],
    admit_with_test: [120, 80, 120],
    refuse: [400, 120, 400, 120, 400],
  };

  function signal(kind) {
    if (navigator.vibrate && VIBRATIONS[kind]) {
      try {
        navigator.vibrate(VIBRATIONS[kind]);
      } catch (error) {
        // Not allowed here: the sound and the colour still tell.
      }
    }
    if (!audio || audio.state !== "running" || !SOUNDS[kind]) {
      return;
    }
    let at = audio.currentTime + 0.02;
    SOUNDS[kind].forEach(function (tone) {
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.type = tone[2];
      oscillator.frequency.value = tone[0];
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.3, at + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + tone[1]);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(at);
      oscillator.stop(at + tone[1] + 0.02);
      at += tone[1] + 0.08;
    });
  }

  // -------------------------------------------------------------------------------------------
  // Direction (in / out), kept per checkpoint on this tablet.

  let direction = load("direction", "in") === "out" ? "out" : "in";
  const directionButtons = app.querySelectorAll("[data-direction-choice]");

  function setDirection(value) {
    direction = value === "out" ? "out" : "in";
    app.dataset.direction = direction;
    directionButtons.forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.dataset.directionChoice === direction));
    });
    save("direction", direction);
  }
  directionButtons.forEach(function (button) {
    button.addEventListener("click", function () {
      const before = direction;
      setDirection(button.dataset.directionChoice);
      if (direction !== before && lookedUp) {
        lookup(lookedUp);
      }
    });
  });
  setDirection(direction);

  // -------------------------------------------------------------------------------------------
  // This tablet's last scans, newest first (localStorage: no ID numbers, no tokens).

  let recent = load("recent", []);
  if (!Array.isArray(recent)) {
    recent = [];
  }

  function remember(entry) {
    recent = recent.filter(function (item) {
      return !(entry.key && item.key === entry.key);
    });
    recent.unshift(entry);
    recent = recent.slice(0, RECENT_MAX);
    save("recent", recent);
    renderRecent();
  }

  function rememberScan(answer, scanId) {
    const trip = answer.trip || {};
    remember({
      // By the scan id where there is one: a scan decided offline is one line, before and
      // after it is sent.
      key: scanId ? "scan_id:" + scanId : "scan:" + answer.id,
      offline: Boolean(answer.offline),
      scan_id: scanId || null,
      kind: "scan",
      verdict: answer.verdict,
      reason: answer.reason,
      overridden: Boolean(answer.override || answer.overridden),
      plate: trip.plate || "",
      observed_plate: answer.observed_plate || "",
      has_trip: Boolean(answer.trip),
      reference: trip.reference || "",
      direction: answer.direction,
      at: answer.scanned_at || new Date().toISOString(),
    });
  }

  // What a row of the list is: a scan of a registered pass, a code that is not ours (forged,
  // altered or not a pass code at all), a well-signed code of no pass, or an unregistered
  // vehicle recorded by hand. They read differently: only a walk-in is "not registered".
  function recentKind(entry) {
    if (entry.kind === "walk_in") {
      return "walk_in";
    }
    if (!entry.plate && (entry.reason === "invalid" || entry.reason === "unknown")) {
      return entry.reason;
    }
    return "scan";
  }

  function renderRecent() {
    recentList.replaceChildren();
    recent.forEach(function (entry) {
      const item = fromTemplate(templates.recent);
      // As on the verdict screen, an overridden refusal shows the override as its outcome.
      item.dataset.verdict =
        entry.kind === "walk_in" ? "walk_in" : entry.overridden ? "override" : entry.verdict;
      if (entry.overridden) {
        item.dataset.overridden = "true";
      }
      const label =
        entry.kind === "walk_in"
          ? T.outcomes[entry.outcome] || entry.outcome
          : entry.overridden
            ? T.override.short
            : T.verdicts_short[entry.verdict] || entry.verdict;
      const kind = recentKind(entry);
      item.dataset.kind = kind;
      setText(item, "verdict", label);
      // A code of no pass names no truck: the plate staff typed, if any, else a dash.
      setText(item, "plate", entry.plate || entry.observed_plate || "—");
      setText(
        item,
        "reason",
        kind === "walk_in"
          ? T.not_registered
          : entry.reason === "ok"
            ? entry.reference
            : T.reasons[entry.reason] || entry.reason,
      );
      setText(
        item,
        "direction",
        (T.directions[entry.direction] || "") + (entry.offline ? " · " + T.offline_mode.short : ""),
      );
      if (entry.offline) {
        item.dataset.offline = "true";
      }
      const time = slot(item, "time");
      time.dateTime = entry.at;
      time.textContent = timeText(entry.at, false);
      recentList.appendChild(item);
    });
    recentEmpty.hidden = recent.length > 0;
  }

  // -------------------------------------------------------------------------------------------
  // Scans on their way, and those waiting to be sent again: each written to IndexedDB when it is
  // read, so a reload, a closed tab or a crash loses none. (Where the browser keeps no
  // IndexedDB, in localStorage as before.) A scan decided offline carries the verdict the tablet
  // gave (``job.offline``) and the answer it showed (``job.shown``), and is sent with both.

  const jobs = new Map();
  let store = null; // ScanStore of this checkpoint, once open

  function jobFrom(stored) {
    if (!stored || !stored.scan_id || !stored.token) {
      return null;
    }
    return {
      scan_id: stored.scan_id,
      token: stored.token,
      direction: stored.direction === "out" ? "out" : "in",
      scanned_at: stored.scanned_at,
      attempts: stored.attempts || 0,
      error: stored.error || T.queued,
      offline: stored.offline || null,
      shown: stored.shown || null,
      sending: false,
      startedAt: 0,
      nextTry: 0,
    };
  }

  function stored(job) {
    return {
      scan_id: job.scan_id,
      token: job.token,
      direction: job.direction,
      scanned_at: job.scanned_at,
      attempts: job.attempts,
      error: job.error,
      offline: job.offline || null,
      shown: job.shown || null,
    };
  }

  function persistQueue() {
    if (store) {
      return;
    }
    save("queue", Array.from(jobs.values(), stored));
  }

  // One scan written (or, once sent, removed); the page goes on at once, the write follows.
  function keep(job) {
    if (!store) {
      persistQueue();
      return Promise.resolve();
    }
    return store.put("queue", stored(job)).catch(function () {
      // A full disk: kept in localStorage, which restore() moves over on the next opening.
      save("queue", Array.from(jobs.values(), stored));
    });
  }

  function forget(job) {
    jobs.delete(job.scan_id);
    if (!store) {
      persistQueue();
      return;
    }
    store.remove("queue", job.scan_id).catch(function () {});
  }

  load("queue", []).forEach(function (item) {
    const job = jobFrom(item);
    if (job) {
      jobs.set(job.scan_id, job);
    }
  });

  function waiting() {
    return Array.from(jobs.values()).filter(function (job) {
      // A first attempt still on its way shows on the verdict panel, not in the list.
      return !(job.sending && job.attempts <= 1);
    });
  }

  function renderQueue() {
    const list = waiting();
    queueList.replaceChildren();
    list.forEach(function (job) {
      const item = fromTemplate(templates.queue);
      item.dataset.scanId = job.scan_id;
      setText(item, "direction", T.directions[job.direction] || job.direction);
      setText(item, "time", timeText(job.scanned_at, false));
      // A scan decided offline names the truck and the verdict staff acted on, so the list
      // says which trucks went through before the server heard of them.
      const shown = job.shown;
      const plate = shown && shown.trip ? shown.trip.plate : "";
      setText(item, "token", plate || shortToken(job.token));
      const state = job.sending ? T.sending : job.error || T.queued;
      setText(
        item,
        "state",
        shown ? (T.verdicts_short[shown.verdict] || shown.verdict) + " · " + state : state,
      );
      if (shown) {
        item.dataset.verdict = shown.verdict;
      }
      const button = item.querySelector('[data-action="retry-one"]');
      button.disabled = job.sending;
      button.addEventListener("click", function () {
        send(job);
      });
      queueList.appendChild(item);
    });
    queuePanel.hidden = list.length === 0;
    app.dataset.queued = String(list.length);
    app.dataset.unsent = String(jobs.size); // on their way included
    renderBanner(list.length);
    if (netStatus.dataset.flash) {
      return; // the flash shows out its time, then this runs again
    }
    netStatus.textContent = "";
    netStatus.hidden = true;
  }

  // The banner in the scan bar, above every screen of the page (the verdict, the walk-in
  // form): working offline or not, how old the offline data is, how many scans wait.
  function renderBanner(count) {
    const offline = health.offline || navigator.onLine === false;
    const minutes = bundleAgeMinutes();
    const stale = bundleStale(minutes);
    const parts = [];
    if (offline) {
      parts.push(T.offline_mode.working);
      parts.push(bundle ? bundleAge(minutes, stale) : T.offline_mode.none);
    } else if (stale) {
      parts.push(bundleAge(minutes, stale));
    }
    if (count > 0) {
      parts.push(
        offline ? fmt(T.offline_mode.waiting, { count: count }) : fmt(T.will_sync, { count: count }),
      );
    }
    banner.dataset.mode = offline ? "offline" : "online";
    banner.dataset.stale = String(stale);
    banner.dataset.queued = String(count);
    banner.textContent = parts.join(" ");
    banner.hidden = parts.length === 0;
    app.dataset.offline = String(offline);
  }

  function bundleAge(minutes, stale) {
    return fmt(stale ? T.offline_mode.stale : T.offline_mode.age, {
      time: timeText(new Date(bundle.generatedAt).toISOString(), false),
      minutes: minutes,
    });
  }

  function retryLater(job, error) {
    job.sending = false;
    job.error = error;
    // Back off: 5 s, 10 s, 20 s … at most a minute between tries of one scan.
    job.nextTry = Date.now() + Math.min(60000, 5000 * Math.pow(2, Math.max(0, job.attempts - 1)));
    keep(job);
    renderQueue();
  }

  function retryable(result) {
    if (result.status >= 500 || result.status === 408 || result.status === 429) {
      return true;
    }
    // Signed out or a stale CSRF token: the scan is good, the session is not. Keep it.
    return (
      result.status === 401 ||
      (result.status === 403 && (result.data || {}).code !== "not_assigned")
    );
  }

  let current = null; // the scan whose answer the verdict panel shows

  async function send(job) {
    if (job.sending) {
      return;
    }
    // A scan the tablet could decide itself waits OFFLINE_AFTER_MS for the server, not longer.
    const decidable = !job.offline && offlineReady();
    job.sending = true;
    job.attempts += 1;
    job.startedAt = Date.now();
    renderQueue();
    if (current === job.scan_id && !job.shown) {
      showPending(job);
    }
    const body = {
      token: job.token,
      direction: job.direction,
      scan_id: job.scan_id,
      scanned_at: job.scanned_at,
    };
    if (job.offline) {
      body.offline = job.offline;
    }
    let result;
    try {
      result = await api(
        "POST",
        URLS.scans,
        body,
        decidable ? OFFLINE_AFTER_MS : REQUEST_TIMEOUT_MS,
      );
    } catch (error) {
      failed(job, decidable, navigator.onLine === false ? T.offline : T.failed);
      return;
    }
    if (result.ok) {
      forget(job);
      renderQueue();
      rememberScan(result.data, job.scan_id);
      noteLocal(result.data, job, true);
      if (current === job.scan_id) {
        const before = job.shown && outcomeOf(job.shown);
        showVerdict(result.data, job);
        if (outcomeOf(result.data) !== before) {
          signal(result.data.verdict);
        }
      } else {
        const trip = result.data.trip || {};
        flash(
          fmt(T.synced, {
            plate: trip.plate || shortToken(job.token),
            verdict: T.verdicts[result.data.verdict] || result.data.verdict,
          }),
        );
      }
      return;
    }
    if (retryable(result)) {
      const status = result.status === 401 || result.status === 403 ? T.session : T.failed;
      // A server that cannot decide (5xx) is no answer: the tablet decides. Signed out, it does
      // not: the scan waits for the sign-in.
      failed(job, decidable && result.status >= 500, status);
      return;
    }
    // Refused as input (a 400, a 404): sending it again would get the same answer.
    forget(job);
    renderQueue();
    if (current === job.scan_id) {
      showError(errorText(result));
      signal("refuse");
    }
  }

  // No answer for a scan: decided on the tablet if it can be (and was not already), kept to
  // be sent again either way.
  async function failed(job, decide, error) {
    if (decide && (await decideOffline(job))) {
      job.sending = false;
      retryLater(job, T.queued);
      return;
    }
    retryLater(job, job.undecided || error);
    if (current === job.scan_id && !job.shown) {
      showWait(job, "failed");
    }
  }

  const lastCamera = new Map(); // code → when the camera last saw it

  function scan(raw, source) {
    const token = String(raw || "").trim();
    if (!token) {
      return;
    }
    const now = Date.now();
    if (source === "camera") {
      const seen = lastCamera.get(token);
      lastCamera.set(token, now);
      if (seen !== undefined && now - seen < CAMERA_REPEAT_MS) {
        return;
      }
    }
    for (const waitingJob of jobs.values()) {
      if (waitingJob.token !== token || waitingJob.direction !== direction) {
        continue;
      }
      if (waitingJob.shown && now - Date.parse(waitingJob.scanned_at) > DUPLICATE_MS) {
        // Decided offline a while ago and waiting to be sent: the code shown again now is
        // another presentation of it (perhaps a copy), judged anew, not the same scan.
        continue;
      }
      // This code is already on its way, or waiting to be sent again: the same scan, so it
      // keeps its scan id (the API records it once) instead of becoming a second one that the
      // API would refuse as a copied code. Decided offline, it shows the verdict it was given.
      current = waitingJob.scan_id;
      closeWalkIn();
      if (waitingJob.shown) {
        showVerdict(waitingJob.shown, waitingJob);
        if (!waitingJob.sending && !health.offline) {
          send(waitingJob);
        }
      } else if (waitingJob.sending) {
        showPending(waitingJob);
        if (now - waitingJob.startedAt < DUPLICATE_MS) {
          flash(T.duplicate);
        }
      } else {
        send(waitingJob);
      }
      return;
    }
    const job = {
      scan_id: uuid(),
      token: token,
      direction: direction,
      scanned_at: new Date(now).toISOString(),
      attempts: 0,
      error: "",
      offline: null,
      shown: null,
      sending: false,
      startedAt: now,
      nextTry: 0,
    };
    jobs.set(job.scan_id, job);
    keep(job);
    current = job.scan_id;
    closeWalkIn();
    if (health.offline && offlineReady()) {
      // Working offline: the verdict now, from the bundle; the scan is sent once the network
      // is back.
      decideOffline(job).then(function (decided) {
        if (decided) {
          retryLater(job, T.queued);
        } else {
          send(job);
        }
      });
      return;
    }
    showPending(job);
    send(job);
  }

  // -------------------------------------------------------------------------------------------
  // Offline verdicts: the checkpoint's bundle (the passes of the deployment, their states and
  // the signing keys), synced every minute while online and kept in IndexedDB, and what this
  // tablet did since (``local``: an entry admitted offline makes the next entry of that pass
  // "already inside" here), judged by static/js/scan-offline.js as the server judges.

  let bundle = null; // {cursor, generatedAt, offsetMs, maxAgeMinutes, fields, judging}
  const local = new Map(); // pass id → {pass_id, tripStatus, passStatus, lastRefusalAt, sent_at}

  function offlineReady() {
    return Boolean(bundle && bundle.judging.keyring && window.ScanOffline);
  }

  // The server's clock now, as well as the tablet knows it (offset measured at each sync).
  function serverNow() {
    return Date.now() + (bundle ? bundle.offsetMs : 0);
  }

  function bundleAgeMinutes() {
    return bundle ? Math.max(0, Math.floor((serverNow() - bundle.generatedAt) / MINUTE_MS)) : 0;
  }

  // Older than the policy's offline_max_age_minutes: the verdicts warn.
  function bundleStale(minutes) {
    return Boolean(bundle) && minutes >= bundle.maxAgeMinutes;
  }

  // The sentence the API would word this verdict in (``verification.message``).
  function verdictMessage(dir, verdictCode, reason, warnings) {
    const key = dir === "out" && verdictCode === "admit" ? "exit_ok" : reason;
    return [T.messages[key] || ""]
      .concat(
        warnings.map(function (warning) {
          return T.warning_messages[warning] || "";
        }),
      )
      .join(" ");
  }

  async function decideOffline(job) {
    if (!offlineReady()) {
      return false;
    }
    const at = serverNow();
    let judged;
    try {
      judged = await window.ScanOffline.judge({
        token: job.token,
        direction: job.direction,
        at: at,
        bundle: bundle.judging,
        local: local,
      });
    } catch (error) {
      return false;
    }
    if (judged.newer) {
      // A pass issued since the last sync: its colour is not known here, so it is neither
      // admitted nor refused; it waits for the network, and staff are told why.
      job.undecided = fmt(T.offline_mode.newer, {
        time: timeText(new Date(bundle.generatedAt).toISOString(), false),
      });
      return false;
    }
    const warnings = judged.warnings || [];
    job.offline = {
      verdict: judged.verdict,
      reason: judged.reason,
      warnings: warnings,
      clock_offset_ms: Math.round(bundle.offsetMs),
    };
    job.shown = {
      id: null,
      verdict: judged.verdict,
      reason: judged.reason,
      warnings: warnings,
      message: verdictMessage(job.direction, judged.verdict, judged.reason, warnings),
      direction: job.direction,
      scanned_at: new Date(at).toISOString(),
      pass: judged.pass || null,
      trip: judged.trip || null,
      priority_lane: Boolean(judged.priorityLane),
      offline: true,
      alert: judged.alert || null,
    };
    job.error = T.queued;
    noteLocal(job.shown, job, false, judged);
    keep(job);
    rememberScan(job.shown, job.scan_id);
    if (current === job.scan_id) {
      showVerdict(job.shown, job);
      signal(judged.verdict);
    }
    return true;
  }

  // What a scan did to its pass, as this tablet knows it until a sync brings the server's view:
  // an admitted entry puts the truck inside, an admitted exit closes the trip, a refusal is
  // recalled for half an hour (``refused_recently``). ``sent``: the server has the scan.
  function noteLocal(answer, job, sent, judged) {
    const pass = answer.pass;
    if (!pass || pass.id === undefined || pass.id === null) {
      return;
    }
    const before = local.get(pass.id) || { pass_id: pass.id };
    const entry = Object.assign({}, before, { scan_id: job.scan_id });
    if (answer.verdict === "refuse") {
      entry.lastRefusalAt = judged ? judged.localAfter.lastRefusalAt : serverNow();
    } else if (sent) {
      entry.tripStatus = answer.trip ? answer.trip.status : entry.tripStatus;
      entry.passStatus = pass.status;
    } else {
      // Only what this scan changed, so a later sync's row is not hidden by a state the
      // tablet merely copied from the bundle.
      entry.tripStatus = judged.localAfter.tripStatus;
      entry.passStatus = judged.localAfter.passStatus;
    }
    entry.sent_at = sent ? serverNow() : null;
    local.set(pass.id, entry);
    if (store) {
      store.put("local", entry).catch(function () {});
    }
  }

  // After a sync, what the server now knows needs no memory of its own here: a scan it had
  // before the bundle was made is in the bundle. Refusals are kept their half hour.
  function cleanLocal(generatedAt) {
    const now = serverNow();
    local.forEach(function (entry, id) {
      if (!entry.sent_at || entry.sent_at > generatedAt) {
        return;
      }
      const recalled = entry.lastRefusalAt && now - entry.lastRefusalAt < 30 * MINUTE_MS;
      if (recalled) {
        entry.tripStatus = entry.passStatus = undefined;
        if (store) {
          store.put("local", entry).catch(function () {});
        }
        return;
      }
      local.delete(id);
      if (store) {
        store.remove("local", id).catch(function () {});
      }
    });
  }

  // The bundle in use, from the API's answer or from what IndexedDB kept (the rows with the
  // answer's meta), read by ScanOffline.bundleFrom; a delta is laid over ``previous``.
  async function useBundle(meta, rows, previous) {
    const judging = await window.ScanOffline.bundleFrom(
      Object.assign({}, meta, { full: !previous, passes: rows }),
      previous,
    );
    bundle = {
      cursor: meta.cursor,
      fields: meta.fields,
      generatedAt: judging.generatedAt,
      offsetMs: meta.offset_ms || 0,
      maxAgeMinutes: judging.offlineMaxAgeMinutes || 15,
      judging: judging,
    };
    app.dataset.bundle = "ready";
  }

  let syncing = false;

  // One sync: the whole bundle the first time, then what changed since its cursor. The clock
  // offset is measured on the way (the server's time against the middle of the request).
  async function sync() {
    if (!store || !URLS.bundle || !window.ScanOffline || syncing) {
      return;
    }
    syncing = true;
    try {
      const since = bundle && bundle.cursor;
      const started = Date.now();
      mark(since ? "bundle:delta-start" : "bundle:full-start");
      let result;
      try {
        result = await api(
          "GET",
          URLS.bundle + (since ? "?since=" + encodeURIComponent(since) : ""),
          undefined,
          BUNDLE_TIMEOUT_MS,
        );
      } catch (error) {
        return;
      }
      const midpoint = (started + Date.now()) / 2;
      if (!result.ok) {
        if (result.status === 400 && bundle) {
          bundle.cursor = null; // a cursor the server no longer reads: the whole bundle next
        }
        return;
      }
      const data = result.data;
      const whole = data.full || !bundle || String(bundle.fields) !== String(data.fields);
      if (whole && !data.full) {
        bundle.cursor = null;
        return;
      }
      const meta = {
        cursor: data.cursor,
        generated_at: data.generated_at,
        offset_ms: data.server_time_ms - midpoint,
        checkpoint: data.checkpoint,
        policy: data.policy,
        keys: data.keys,
        max_pass_id: data.max_pass_id,
        fields: data.fields,
      };
      await useBundle(meta, data.passes, whole ? null : bundle.judging);
      // A delta never says a row left the bundle: a pass whose window ended more than a day
      // ago, of a truck not in the city, is dropped here as the server stops sending it.
      const passes = bundle.judging.passes;
      const drop = [];
      const gone = (data.server_time_ms - DAY_MS) / 1000;
      passes.forEach(function (row, id) {
        if (row.valid_until < gone && row.trip_status !== "inside" && row.trip_status !== "arrived") {
          drop.push(id);
        }
      });
      drop.forEach(function (id) {
        passes.delete(id);
      });
      await store.saveBundle(Object.assign({}, data, { drop: drop }), meta);
      mark(whole ? "bundle:full-ready" : "bundle:delta-ready");
      cleanLocal(bundle.generatedAt);
    } catch (error) {
      // A full disk or a bundle the page cannot read: the last good one stays in use.
    } finally {
      syncing = false;
      renderQueue();
    }
  }

  // What the tablet kept: the bundle, the local states, the queue (and a queue an older page
  // kept in localStorage, moved over).
  async function restore() {
    store = await window.ScanStore.open(config.checkpoint);
    if (!store) {
      return;
    }
    try {
      const [meta, rows, locals, queued] = await Promise.all([
        store.get("meta", "bundle"),
        store.all("passes"),
        store.all("local"),
        store.all("queue"),
      ]);
      queued.forEach(function (item) {
        const job = jobFrom(item);
        if (job && !jobs.has(job.scan_id)) {
          jobs.set(job.scan_id, job);
        }
      });
      const moved = Array.from(jobs.values());
      await Promise.all(moved.map(keep));
      window.localStorage.removeItem(STORE + "queue");
      locals.forEach(function (entry) {
        local.set(entry.pass_id, entry);
      });
      if (meta && window.ScanOffline) {
        await useBundle(meta, rows, null);
        mark("bundle:restored");
      }
    } catch (error) {
      // An unreadable store: the page works online and syncs a new bundle.
    }
  }

  // Scans waiting to be sent go again on their own: when the connection returns, and on a
  // timer with back-off.
  function retryDue(force) {
    if (navigator.onLine === false) {
      return;
    }
    const now = Date.now();
    jobs.forEach(function (job) {
      if (!job.sending && (force || job.nextTry <= now)) {
        send(job);
      }
    });
  }
  // The browser's word that the network is gone is taken at once; its word that it is back is
  // checked by the requests themselves (a captive portal or a dead uplink says "online" too).
  window.addEventListener("online", function () {
    renderQueue();
    retryDue(true);
    sync();
  });
  window.addEventListener("offline", function () {
    health.set(true);
    renderQueue();
  });
  health.listeners.push(function (offline) {
    renderQueue();
    if (!offline) {
      retryDue(true);
      sync();
    }
  });
  // The bundle's delta every minute while online; while offline, a small request every few
  // seconds notices the network's return (and the queue's own retries do too).
  setInterval(function () {
    if (!health.offline) {
      sync();
    }
  }, SYNC_MS);
  setInterval(function () {
    if (health.offline) {
      sync();
    }
    renderQueue(); // the data's age, minute by minute
  }, PROBE_MS);

  setInterval(function () {
    retryDue(false);
  }, RETRY_TICK_MS);
  document.getElementById("retry-all").addEventListener("click", function () {
    retryDue(true);
  });

  // -------------------------------------------------------------------------------------------
  // The verdict panel: pending, failed, refused as input, or the API's answer in its colour.

  let shown = null; // {answer, job} of the verdict on screen
  let slowTimer = null;
  const actions = {};
  verdict.querySelectorAll("[data-action]").forEach(function (button) {
    actions[button.dataset.action] = button;
  });
  const forms = {};
  verdict.querySelectorAll("[data-form]").forEach(function (form) {
    forms[form.dataset.form] = form;
  });
  const actionError = slot(verdict, "action-error");

  function part(name, visible) {
    verdict.querySelectorAll('[data-show="' + name + '"]').forEach(function (node) {
      node.hidden = !visible;
    });
  }

  function showActions(visible) {
    Object.keys(actions).forEach(function (name) {
      if (name !== "close-form") {
        actions[name].hidden = visible.indexOf(name) === -1;
      }
    });
  }

  // data-verdict and data-reason are the scan's own (the record's); data-outcome is what the
  // screen shows as the outcome, in its colour: the verdict, or "override" when a supervisor
  // admitted a refused vehicle.
  function setState(state, verdictCode, reason, outcome) {
    verdict.dataset.state = state;
    verdict.dataset.offline = "false";
    verdict.dataset.verdict = verdictCode || "";
    verdict.dataset.reason = reason || "";
    verdict.dataset.outcome = outcome || verdictCode || "";
    verdict.dataset.overridden = String(outcome === "override");
    verdict.hidden = false;
    verdict.scrollTop = 0;
  }

  function clearDetails() {
    [
      "message",
      "reason",
      "plate",
      "driver",
      "id-number",
      "persons",
      "reference",
      "pass",
      "override-reason",
      "override-original",
    ].forEach(function (name) {
      setText(verdict, name, "");
    });
    slot(verdict, "notes").replaceChildren();
    part("override", false);
    part("priority", false);
    actionError.hidden = true;
    closeForms();
  }

  function showPending(job) {
    clearTimeout(slowTimer);
    shown = null;
    clearDetails();
    setState("pending");
    setText(verdict, "direction", T.directions[job.direction]);
    setText(verdict, "icon", "…");
    setText(verdict, "title", T.pending);
    setText(verdict, "wait-text", shortToken(job.token));
    part("trip", false);
    part("reason", false);
    part("wait", true);
    actions.retry.hidden = true;
    showActions(["next"]);
    slowTimer = setTimeout(function () {
      if (current === job.scan_id && verdict.dataset.state === "pending") {
        setText(verdict, "message", T.slow);
      }
    }, SLOW_MS);
  }

  function showWait(job, state) {
    clearTimeout(slowTimer);
    shown = null;
    clearDetails();
    setState(state);
    setText(verdict, "direction", T.directions[job.direction]);
    setText(verdict, "icon", "!");
    setText(verdict, "title", T.not_sent);
    setText(verdict, "message", job.error || T.failed);
    setText(verdict, "wait-text", shortToken(job.token));
    part("trip", false);
    part("reason", false);
    part("wait", true);
    showActions(["retry", "next"]);
    actions.retry.disabled = false;
  }

  function showError(text) {
    clearTimeout(slowTimer);
    shown = null;
    clearDetails();
    setState("error");
    setText(verdict, "icon", "✕");
    setText(verdict, "title", T.not_accepted);
    setText(verdict, "message", text);
    part("trip", false);
    part("reason", false);
    part("wait", false);
    showActions(["next"]);
  }

  function note(text, kind) {
    const item = document.createElement("li");
    item.textContent = text;
    if (kind) {
      item.dataset.note = kind;
    }
    slot(verdict, "notes").appendChild(item);
    return item;
  }

  const ICONS = { admit: "✓", admit_with_test: "!", refuse: "✕", override: "✓" };

  // What the screen shows as the outcome of a scan: its verdict, or the supervisor's override.
  function outcomeOf(answer) {
    return answer.override ? "override" : answer.verdict;
  }

  function showVerdict(answer, job) {
    clearTimeout(slowTimer);
    shown = { answer: answer, job: job };
    clearDetails();
    const outcome = outcomeOf(answer);
    setState("done", answer.verdict, answer.reason, outcome);
    // Decided on this tablet, not by the server (the server keeps that verdict when it is sent).
    verdict.dataset.offline = String(Boolean(answer.offline));
    setText(verdict, "direction", T.directions[answer.direction] || answer.direction);
    setText(verdict, "icon", ICONS[outcome] || "");
    part("wait", false);
    // A whitelisted truck the scan lets through goes to the priority lane; a refused one is
    // turned away whatever its lane.
    part("priority", Boolean(answer.priority_lane) && outcome !== "refuse");
    const override = answer.override;
    if (override) {
      // The override is the outcome: who admitted the vehicle, when and why, with the scan's
      // own verdict below it (the record keeps it).
      setText(verdict, "title", T.override.title);
      setText(
        verdict,
        "message",
        fmt(T.override.by, { name: override.by, time: timeText(override.at, false) }),
      );
      setText(verdict, "override-reason", fmt(T.override.reason, { reason: override.reason }));
      setText(
        verdict,
        "override-original",
        fmt(T.override.original, {
          verdict: T.verdicts[answer.verdict] || answer.verdict,
          reason: T.reasons[answer.reason] || answer.reason,
        }),
      );
      part("override", true);
      part("reason", false);
    } else {
      setText(verdict, "title", T.verdicts[answer.verdict] || answer.verdict);
      setText(verdict, "message", answer.message);
      setText(verdict, "reason", T.reasons[answer.reason] || answer.reason);
      // "ok" says nothing the title does not; every other reason is shown in words.
      part("reason", answer.reason !== "ok");
    }

    (answer.warnings || []).forEach(function (warning) {
      const earlier = answer.earlier_refusal;
      if (warning === "refused_recently" && earlier) {
        note(
          fmt(T.earlier_refusal, {
            time: timeText(earlier.scanned_at, false),
            reason: T.reasons[earlier.reason] || earlier.reason,
          }),
          "earlier-refusal",
        );
        return;
      }
      note(T.warnings[warning] || warning);
    });
    if (answer.landing_test) {
      note(fmt(T.landing_note, { state: T.landing[answer.landing_test] || answer.landing_test }));
    }
    if (answer.confirmed) {
      note(T.confirmed);
    }
    if (answer.replayed) {
      note(T.replayed);
    }
    if (answer.offline) {
      offlineNotes(answer);
    }

    const trip = answer.trip;
    part("trip", Boolean(trip));
    if (trip) {
      setText(verdict, "plate", trip.plate);
      // The offline data names no driver (a tablet carries no personal data but plates).
      const driver = trip.driver || {};
      setText(verdict, "driver", driver.name || T.offline_mode.no_driver);
      setText(verdict, "id-number", driver.id_number || "");
      setText(verdict, "persons", trip.persons_expected);
      setText(verdict, "reference", trip.reference);
    }
    const pass = answer.pass;
    if (pass) {
      setText(verdict, "pass", (T.colours[pass.colour] || pass.colour) + " · " + validity(pass));
    }
    if (pass && answer.reason === "not_yet_valid") {
      // Early: when it opens is what staff tell the driver.
      const opens = note("", "opens-at");
      const time = document.createElement("time");
      time.dateTime = pass.valid_from;
      time.textContent = timeText(pass.valid_from, true);
      const around = T.opens_at.split("%(time)s");
      opens.append(around[0], time, around.slice(1).join(""));
    }

    window.requestAnimationFrame(function () {
      mark(answer.offline && answer.id === null ? "scan:verdict-offline" : "scan:verdict");
    });
    const visible = ["next"];
    if (answer.id === null) {
      // Decided offline and not sent yet: what follows a scan needs its record.
      showActions(visible);
      return;
    }
    if (trip && !answer.confirmed) {
      visible.unshift("confirm");
    }
    if (answer.verdict === "admit_with_test" && !answer.landing_test) {
      visible.unshift("landing");
    }
    if (outcome === "refuse") {
      visible.unshift("walk-in");
      if (config.supervisor) {
        visible.unshift("override");
      }
    }
    showActions(visible);
  }

  // An offline verdict says so: how old the data it was decided from is (a warning past the
  // policy's age), and how many scans wait to be sent.
  function offlineNotes(answer) {
    const minutes = bundleAgeMinutes();
    const stale = bundleStale(minutes);
    const parts = [T.offline_mode.decided];
    if (bundle) {
      parts.push(bundleAge(minutes, stale));
    }
    const count = waiting().length;
    if (count > 0) {
      parts.push(fmt(T.offline_mode.waiting, { count: count }));
    }
    const item = note(parts.join(" "), "offline");
    item.dataset.stale = String(stale);
    if (answer.id === null && answer.alert) {
      // The verdict's words say officials are alerted: true once the scan reaches the server.
      note(T.offline_mode.alert_later, "alert-later");
    }
    if (answer.id === null) {
      note(T.offline_mode.later, "later");
    }
  }

  // A pass's window in words: until when, or from when until when while it is not open yet.
  function validity(pass) {
    if (new Date(pass.valid_from).getTime() > Date.now()) {
      return fmt(T.valid_window, {
        start: timeText(pass.valid_from, true),
        end: timeText(pass.valid_until, true),
      });
    }
    return fmt(T.valid_until, { time: timeText(pass.valid_until, true) });
  }

  function hideVerdict() {
    clearTimeout(slowTimer);
    verdict.hidden = true;
    verdict.dataset.state = "";
    shown = null;
    current = null;
    closeForms();
    scanner.focus({ preventScroll: true });
  }

  function closeForms() {
    Object.keys(forms).forEach(function (name) {
      forms[name].hidden = true;
      clearFieldErrors(forms[name]);
    });
  }

  function openForm(name) {
    closeForms();
    actionError.hidden = true;
    const form = forms[name];
    if (!form) {
      return;
    }
    form.hidden = false;
    // On a phone the form opens below the verdict's words: bring it into view.
    form.scrollIntoView({ block: "nearest" });
    const first = form.querySelector("input, textarea");
    if (first) {
      first.focus();
    }
  }

  // One action on the scan on screen (confirm, landing test, override): the buttons are held
  // while it is on its way, so a double tap sends it once. ``answered(result)`` may take over
  // an answer that is not a success (and returns true when it did).
  async function act(path, body, buttons, form, answered) {
    if (!shown) {
      return;
    }
    if (form) {
      clearFieldErrors(form);
    }
    const scanned = shown;
    buttons.forEach(function (button) {
      button.disabled = true;
    });
    actionError.hidden = true;
    let result;
    try {
      result = await api("POST", URLS.scans + scanned.answer.id + "/" + path, body);
    } catch (error) {
      result = null;
    }
    buttons.forEach(function (button) {
      button.disabled = false;
    });
    if (shown !== scanned) {
      return; // another vehicle is on screen now
    }
    if (result === null) {
      actionError.textContent = T.failed;
      actionError.hidden = false;
      return;
    }
    if (!result.ok) {
      if (!(answered && answered(result))) {
        actionError.textContent = form ? showFieldErrors(form, result) : errorText(result);
        actionError.hidden = false;
      }
      return;
    }
    const before = outcomeOf(scanned.answer);
    showVerdict(result.data, scanned.job);
    rememberScan(result.data, scanned.job && scanned.job.scan_id);
    const after = outcomeOf(result.data);
    if (after !== before) {
      signal(after === "override" ? "admit" : after);
    }
    refocus();
  }

  actions.next.addEventListener("click", hideVerdict);
  actions.retry.addEventListener("click", function () {
    const job = jobs.get(current);
    if (job) {
      actions.retry.disabled = true;
      send(job);
    }
  });
  actions.confirm.addEventListener("click", function () {
    if (!shown || !shown.answer.trip) {
      return;
    }
    const form = forms.confirm;
    form.elements.plate.value = shown.answer.trip.plate;
    form.elements.persons.value = shown.answer.trip.persons_expected;
    openForm("confirm");
  });
  actions.landing.addEventListener("click", function () {
    act("landing-test/", undefined, [actions.landing], null);
  });
  actions["walk-in"].addEventListener("click", function () {
    const trip = shown && shown.answer.trip;
    openWalkIn(trip ? trip.plate : "");
  });
  if (actions.override) {
    actions.override.addEventListener("click", function () {
      openForm("override");
    });
  }
  verdict.querySelectorAll('[data-action="close-form"]').forEach(function (button) {
    button.addEventListener("click", function () {
      closeForms();
      scanner.focus({ preventScroll: true });
    });
  });
  // Confirming plate and persons. A plate that differs from the registered one comes back from
  // the API for a second look (409 plate_mismatch_unconfirmed, with both plates): they are shown
  // side by side, and only "the plates differ" sends the refusal.
  let confirmBody = null;

  function confirmSend(body) {
    confirmBody = body;
    act(
      "confirm/",
      body,
      Array.from(forms.confirm.querySelectorAll("button")).concat(recheckButtons),
      forms.confirm,
      function (result) {
        const data = result.data || {};
        if (result.status !== 409 || data.code !== "plate_mismatch_unconfirmed") {
          return false;
        }
        showRecheck(data.registered_plate, data.observed_plate);
        return true;
      },
    );
  }

  // A plate, character by character, those that differ from the other plate marked.
  function plateMarked(node, plate, other) {
    const others = Array.from(other);
    node.replaceChildren();
    Array.from(plate).forEach(function (character, i) {
      const span = document.createElement(character === others[i] ? "span" : "mark");
      span.textContent = character;
      node.appendChild(span);
    });
  }

  function showRecheck(registered, entered) {
    plateMarked(slot(verdict, "recheck-registered"), registered, entered);
    plateMarked(slot(verdict, "recheck-entered"), entered, registered);
    openForm("recheck");
    forms.recheck.querySelector('[data-recheck="again"]').focus();
    signal("admit_with_test");
  }

  const recheckButtons = Array.from(forms.recheck.querySelectorAll("[data-recheck]"));
  forms.recheck.querySelector('[data-recheck="again"]').addEventListener("click", function () {
    openForm("confirm");
    forms.confirm.elements.plate.select();
  });
  forms.recheck.querySelector('[data-recheck="differs"]').addEventListener("click", function () {
    if (confirmBody) {
      confirmSend(Object.assign({}, confirmBody, { plate_mismatch_confirmed: true }));
    }
  });

  forms.confirm.addEventListener("submit", function (event) {
    event.preventDefault();
    const form = forms.confirm;
    const persons = form.elements.persons.value.trim();
    confirmSend({
      plate: form.elements.plate.value.trim(),
      persons: persons === "" ? null : Number(persons),
    });
  });
  if (forms.override) {
    forms.override.addEventListener("submit", function (event) {
      event.preventDefault();
      const form = forms.override;
      act(
        "override/",
        { reason: form.elements.reason.value.trim() },
        Array.from(form.querySelectorAll("button")),
        form,
      ).then(function () {
        if (shown && shown.answer.overridden) {
          form.elements.reason.value = "";
        }
      });
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || typingElsewhere()) {
      return;
    }
    if (!walkIn.hidden) {
      closeWalkIn();
    } else if (!verdict.hidden) {
      hideVerdict();
    }
  });

  // -------------------------------------------------------------------------------------------
  // Scanner field (handheld keyboard-wedge scanners type the code and press Enter).

  scannerForm.addEventListener("submit", function (event) {
    event.preventDefault();
    const value = scanner.value;
    scanner.value = "";
    scan(value, "scanner");
  });

  // -------------------------------------------------------------------------------------------
  // Plate-first lookup, for a driver without a phone or with a printed pass.

  const TOKEN_RE = /^[A-Z2-7]{60,}$/;
  const REFERENCE_RE = /^[A-Z]{1,8}-\d{8}-\d{1,8}$/;

  function lookupMessage(text) {
    lookupStatus.textContent = text;
    lookupStatus.hidden = !text;
  }

  // The last plate or reference looked up, so the list follows a change of direction (what can
  // still be checked depends on it: an exit may let out a truck whose pass is over).
  let lookedUp = null;

  lookupForm.addEventListener("submit", function (event) {
    event.preventDefault();
    const query = lookupInput.value.trim().normalize("NFKC");
    const compact = query.replace(/\s+/g, "").toUpperCase();
    lookupResults.replaceChildren();
    lookupMessage("");
    lookedUp = null;
    if (!compact) {
      return;
    }
    if (TOKEN_RE.test(compact)) {
      // The whole code, typed or pasted: check it as a scan.
      lookupInput.value = "";
      scan(compact, "typed");
      return;
    }
    lookup(compact);
  });

  async function lookup(compact) {
    const parameter = REFERENCE_RE.test(compact) ? "reference" : "plate";
    const button = lookupForm.querySelector("button[type=submit]");
    button.disabled = true;
    let result = null;
    try {
      result = await api(
        "GET",
        URLS.lookup +
          "?" +
          parameter +
          "=" +
          encodeURIComponent(compact) +
          "&direction=" +
          encodeURIComponent(direction),
      );
    } catch (error) {
      result = null;
    }
    button.disabled = false;
    lookupResults.replaceChildren();
    if (result === null) {
      lookupMessage(fmt(T.lookup_failed, { detail: T.failed }));
      return;
    }
    if (!result.ok) {
      lookupMessage(fmt(T.lookup_failed, { detail: errorText(result) }));
      return;
    }
    lookupMessage("");
    if (result.data.length === 0) {
      lookupMessage(fmt(T.no_match, { query: compact }));
      lookupForm.dataset.unmatchedPlate = parameter === "plate" ? compact : "";
      return;
    }
    lookedUp = compact;
    result.data.forEach(function (found) {
      lookupResults.appendChild(lookupItem(found));
    });
  }

  // One pass found. Only a pass a scan would still check gets the button; the others say what
  // they are (completed, revoked, expired, the trip cancelled) and why there is nothing to do.
  function lookupItem(found) {
    const item = fromTemplate(templates.lookup);
    item.dataset.checkable = String(found.checkable);
    const colour = slot(item, "colour");
    colour.classList.add("colour-" + found.pass.colour);
    colour.textContent = T.colours[found.pass.colour] || found.pass.colour;
    setText(item, "plate", found.trip.plate);
    setText(item, "reference", found.trip.reference);
    setText(item, "detail", found.trip.driver.name + " · " + validity(found.pass));
    const state =
      found.trip.status === "cancelled"
        ? T.trip_statuses.cancelled
        : found.pass.status !== "active"
          ? T.pass_statuses[found.pass.status] || found.pass.status
          : found.checkable
            ? ""
            : T.trip_statuses[found.trip.status] || found.trip.status;
    const stateNode = slot(item, "state");
    stateNode.textContent = state;
    stateNode.hidden = !state;
    const button = item.querySelector('[data-action="scan-found"]');
    if (!found.checkable) {
      button.remove();
      const closed = slot(item, "closed");
      closed.textContent = fmt(T.lookup_closed, {
        reason: T.reasons[found.closed_reason] || found.closed_reason,
      });
      closed.hidden = false;
      return item;
    }
    button.addEventListener("click", function () {
      lookupResults.replaceChildren();
      lookupInput.value = "";
      lookedUp = null;
      scan(found.token, "lookup");
    });
    return item;
  }

  // -------------------------------------------------------------------------------------------
  // Walk-ins: an unregistered vehicle is recorded all the same. The form's scan id is kept
  // until the record is saved, so sending it twice records it once.

  let walkInId = null;
  const walkInError = slot(walkIn, "walk-in-error");

  function openWalkIn(plate) {
    walkInForm.reset();
    clearFieldErrors(walkInForm);
    walkInId = uuid();
    walkInError.hidden = true;
    walkInForm.elements.plate.value = plate || lookupForm.dataset.unmatchedPlate || "";
    walkIn.hidden = false;
    walkIn.scrollTop = 0;
    walkInForm.elements.plate.focus();
  }

  function closeWalkIn() {
    if (walkIn.hidden) {
      return;
    }
    walkIn.hidden = true;
    walkInId = null;
    scanner.focus({ preventScroll: true });
  }

  app.querySelectorAll("[data-open-walk-in]").forEach(function (button) {
    button.addEventListener("click", function () {
      openWalkIn("");
    });
  });
  walkIn.querySelector('[data-action="close-walk-in"]').addEventListener("click", closeWalkIn);

  walkInForm.addEventListener("submit", async function (event) {
    event.preventDefault();
    const form = walkInForm;
    const body = {
      plate: form.elements.plate.value.trim(),
      outcome: form.elements.outcome.value,
      driver_name: form.elements.driver_name.value.trim(),
      phone: form.elements.phone.value.trim(),
      note: form.elements.note.value.trim(),
      direction: direction,
      scan_id: walkInId,
    };
    const persons = form.elements.persons.value.trim();
    if (persons !== "") {
      body.persons = Number(persons);
    }
    const buttons = Array.from(form.querySelectorAll("button"));
    buttons.forEach(function (button) {
      button.disabled = true;
    });
    walkInError.hidden = true;
    clearFieldErrors(form);
    let result = null;
    try {
      result = await api("POST", URLS.walk_ins, body);
    } catch (error) {
      result = null;
    }
    buttons.forEach(function (button) {
      button.disabled = false;
    });
    if (result === null || !result.ok) {
      walkInError.textContent = result === null ? T.failed : showFieldErrors(form, result);
      walkInError.hidden = false;
      return;
    }
    remember({
      key: "walk_in:" + result.data.id,
      kind: "walk_in",
      outcome: result.data.outcome,
      plate: result.data.plate,
      direction: result.data.direction,
      at: result.data.recorded_at,
    });
    flash(
      fmt(T.walk_in_saved, {
        plate: result.data.plate,
        outcome: T.outcomes[result.data.outcome] || result.data.outcome,
      }),
    );
    lookupForm.dataset.unmatchedPlate = "";
    closeWalkIn();
    if (!verdict.hidden) {
      hideVerdict();
    }
  });

  // -------------------------------------------------------------------------------------------
  // A short message in the status line (a walk-in saved, a queued scan sent).

  let flashTimer = null;
  function flash(text) {
    clearTimeout(flashTimer);
    netStatus.textContent = text;
    netStatus.hidden = false;
    netStatus.dataset.flash = "true";
    flashTimer = setTimeout(function () {
      delete netStatus.dataset.flash;
      renderQueue();
    }, 4000);
  }

  // -------------------------------------------------------------------------------------------
  // Camera

  const camera = window.ScanCamera.create({
    video: document.getElementById("camera-video"),
    detectorUrl: app.dataset.detectorUrl,
    wasmUrl: app.dataset.wasmUrl,
    onCode: function (text) {
      mark("scan:decoded");
      scan(text, "camera");
    },
    onStatus: function (code, detail) {
      const text = T.camera[code] || code;
      cameraStatus.textContent = fmt(text, { detail: detail });
      cameraStatus.dataset.state = code;
    },
  });

  function cameraButton(on) {
    cameraToggle.textContent = on ? cameraToggle.dataset.labelStop : cameraToggle.dataset.labelStart;
    cameraToggle.setAttribute("aria-pressed", String(on));
    cameraView.hidden = !on;
  }

  cameraToggle.addEventListener("click", function () {
    if (camera.isOn()) {
      camera.stop();
      cameraButton(false);
      return;
    }
    mark("scan:camera-pressed");
    unlockAudio();
    cameraButton(true);
    cameraToggle.disabled = true;
    camera
      .start()
      .catch(function () {
        cameraButton(false);
      })
      .finally(function () {
        cameraToggle.disabled = false;
      });
  });

  // -------------------------------------------------------------------------------------------

  renderRecent();
  renderQueue();
  refocus();
  restore()
    .catch(function () {})
    .then(function () {
      renderQueue();
      retryDue(true);
      sync();
      camera.prepare();
      app.dataset.ready = "true";
    });
})();
