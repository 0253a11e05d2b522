// Offline verdicts for the scan page: when the network is gone, the tablet still decides a scan
// from the checkpoint's bundle of passes (GET /api/v1/checkpoints/{code}/bundle/), with the pass
// token's signature checked here, in the browser.
//
// Each half mirrors the server, so a scan gets the same verdict on either side of the network:
// - the token as trucks/passcode.py reads it (its normalising, its canonical base32, its key ids,
//   the b"TP1" domain), checked with the browser's own Ed25519 (WebCrypto) or, where the browser
//   has none, with @noble/ed25519 loaded from our static files on first need;
// - the verdict as checkpoints/verification.py decides it, branch for branch (decide below).
//
// Nothing here talks to the server or touches the page: scan.js calls it and shows the answer.
// Times are milliseconds since the Unix epoch throughout; the bundle's rows carry whole seconds.
(function () {
  "use strict";

  // --- The token (trucks/passcode.py) ---------------------------------------------------------

  const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const DOMAIN = [0x54, 0x50, 0x31]; // b"TP1": signatures of passes and nothing else
  const HEADER_BYTES = 9; // key id (1), pass id (4), valid until in minutes (4), big-endian
  const SIGNATURE_BYTES = 64;
  const TOKEN_BYTES = HEADER_BYTES + SIGNATURE_BYTES;
  // 117 characters carry 585 bits for 584: the last character's spare bit must be zero, so it is
  // one of the even letters. Without this two texts would read as one token (passcode.py).
  const TOKEN_RE = /^[A-Z2-7]{116}[ACEGIKMOQSUWY246]$/;
  // What Python's str.split() drops: its white space, which is not JavaScript's \s (Python counts
  // the separators \x1c-\x1f and NEL \x85; JavaScript counts the byte-order mark \ufeff). A
  // different set would accept here a text the server refuses, or the other way round.
  const SPACES =
    "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680" +
    "\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
  const WHITE_SPACE = new RegExp("[" + SPACES + "]", "g");

  // Scanners and people add white space and lower-case letters; neither changes the token.
  // Upper-casing is Unicode's full mapping on both sides (ı becomes I, ﬀ becomes FF, as in Python).
  function normalise(text) {
    return typeof text === "string" ? text.replace(WHITE_SPACE, "").toUpperCase() : "";
  }

  // A scanned token rather than a typed plate or reference (passcode.looks_like_token). Python
  // counts code points; a string's length counts UTF-16 units, so count the code points.
  function looksLikeToken(text) {
    return Array.from(normalise(text)).length >= 100;
  }

  // Base32 (RFC 4648) of a text TOKEN_RE accepted: 73 bytes, the spare last bit dropped.
  function tokenBytes(text) {
    const bytes = new Uint8Array(TOKEN_BYTES);
    let value = 0;
    let bits = 0;
    let n = 0;
    for (let i = 0; i < text.length; i += 1) {
      value = ((value << 5) | ALPHABET.indexOf(text[i])) & 0xfff; // never more than 12 bits held
      bits += 5;
      if (bits >= 8) {
        bits -= 8;
        bytes[n] = (value >>> bits) & 0xff;
        n += 1;
      }
    }
    return bytes;
  }

  function base64urlBytes(text) {
    if (typeof text !== "string" || !/^[A-Za-z0-9_-]*={0,2}$/.test(text)) {
      return null;
    }
    let plain = text.replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/");
    while (plain.length % 4) {
      plain += "=";
    }
    try {
      return Uint8Array.from(atob(plain), function (c) {
        return c.charCodeAt(0);
      });
    } catch (error) {
      return null;
    }
  }

  // --- Ed25519: the browser's own, else @noble/ed25519 ------------------------------------------

  // The verifier could not run at all (no WebCrypto Ed25519 and the fallback failed to load, or
  // no SubtleCrypto: a page not served over HTTPS). Not a verdict: the page must say it cannot
  // check offline, rather than call a genuine pass forged.
  class VerifierUnavailable extends Error {
    constructor(cause) {
      super("verifier_unavailable");
      this.name = "VerifierUnavailable";
      this.code = "verifier_unavailable";
      this.cause = cause;
    }
  }

  const options = { nobleUrl: null };
  let forceNoble = false;
  let noblePromise = null;

  function nobleUrl() {
    if (options.nobleUrl) {
      return options.nobleUrl;
    }
    // The page names the file with {% static %}, so a hashed name in production is found too.
    const app = document.getElementById("scan-app");
    const url = app && app.dataset.nobleUrl;
    if (!url) {
      throw new VerifierUnavailable(new Error("no URL for @noble/ed25519"));
    }
    return url;
  }

  // An ES module, so it is imported, not added as a script: once per page, tried again on the
  // next scan if it failed (the service worker may have it by then).
  function loadNoble() {
    if (!noblePromise) {
      noblePromise = Promise.resolve()
        .then(function () {
          return import(new URL(nobleUrl(), document.baseURI).href);
        })
        .then(function (module) {
          if (typeof module.verifyAsync !== "function") {
            throw new Error("@noble/ed25519 without verifyAsync");
          }
          return module;
        });
      noblePromise.catch(function () {
        noblePromise = null;
      });
    }
    return noblePromise.catch(function (error) {
      throw error instanceof VerifierUnavailable ? error : new VerifierUnavailable(error);
    });
  }

  // The browser's Ed25519 key, or null where it has none (NotSupportedError), or no SubtleCrypto.
  async function webCryptoKey(raw) {
    if (!window.crypto || !window.crypto.subtle) {
      return null;
    }
    try {
      return await window.crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, [
        "verify",
      ]);
    } catch (error) {
      return null;
    }
  }

  async function signatureHolds(key, signature, signed) {
    if (!forceNoble && key.cryptoKey) {
      try {
        const subtle = window.crypto.subtle;
        return await subtle.verify({ name: "Ed25519" }, key.cryptoKey, signature, signed);
      } catch (error) {
        // An engine that imports a key it then cannot use: let the fallback answer.
      }
    }
    const ed = await loadNoble();
    try {
      // zip215 false: RFC 8032's strict reading (canonical encodings, S below the group
      // order), not the looser ZIP-215 meant for blockchains. The one difference from OpenSSL
      // found is a small-order public key (accepted there, refused here), never a key of ours.
      return await ed.verifyAsync(signature, signed, key.raw, { zip215: false });
    } catch (error) {
      throw new VerifierUnavailable(error); // its SHA-512 is SubtleCrypto's: none, no check
    }
  }

  // The bundle's keys ({kid: "1", x: base64url of the raw 32-byte public key, active}) as the
  // keyring verifyToken takes: a Map of key id (a number) to {raw, cryptoKey}. A key that does
  // not read is left out: a token under it is refused as unknown_key, never admitted.
  async function importKeys(keys) {
    const ring = new Map();
    for (const key of keys || []) {
      const kid = key && /^[0-9]{1,3}$/.test(String(key.kid)) ? Number(key.kid) : -1;
      const raw = key ? base64urlBytes(key.x) : null;
      if (kid < 0 || kid > 255 || !raw || raw.length !== 32) {
        continue;
      }
      ring.set(kid, { raw: raw, cryptoKey: await webCryptoKey(raw) });
    }
    return ring;
  }

  // passcode.decode: {ok: true, keyId, passId, validUntil (ms)} or {ok: false, code} with the
  // server's TokenError codes. Throws VerifierUnavailable when no Ed25519 can run.
  async function verifyToken(text, keyring) {
    const canonical = normalise(text);
    if (!TOKEN_RE.test(canonical)) {
      return { ok: false, code: "malformed" };
    }
    const bytes = tokenBytes(canonical);
    const header = new DataView(bytes.buffer, 0, HEADER_BYTES);
    const keyId = header.getUint8(0);
    const key = keyring && keyring.get(keyId);
    if (!key) {
      return { ok: false, code: "unknown_key" };
    }
    const signed = new Uint8Array(DOMAIN.length + HEADER_BYTES);
    signed.set(DOMAIN, 0);
    signed.set(bytes.subarray(0, HEADER_BYTES), DOMAIN.length);
    if (!(await signatureHolds(key, bytes.slice(HEADER_BYTES), signed))) {
      return { ok: false, code: "bad_signature" };
    }
    return {
      ok: true,
      keyId: keyId,
      passId: header.getUint32(1),
      validUntil: header.getUint32(5) * 60000,
    };
  }

  // Which Ed25519 verifyToken uses with this keyring: "webcrypto" or "noble".
  function engine(keyring) {
    if (forceNoble) {
      return "noble";
    }
    for (const key of (keyring || new Map()).values()) {
      return key.cryptoKey ? "webcrypto" : "noble";
    }
    return "noble";
  }

  // --- The verdict (checkpoints/verification.py) ----------------------------------------------

  // A refusal of the same pass here at most this long before a scan is recalled with it.
  const RECENT_REFUSAL_MS = 30 * 60 * 1000;
  const ADMIT = "admit";
  const ADMIT_WITH_TEST = "admit_with_test";
  const REFUSE = "refuse";

  function refuse(reason, alert, warnings) {
    return {
      verdict: REFUSE,
      reason: reason,
      warnings: warnings.slice(),
      tripStatus: null,
      passStatus: null,
      alert: alert,
    };
  }

  // No plate entered is no difference. Both are normalised (normalisePlate) by the caller.
  function plateDiffers(observed, registered) {
    return Boolean(observed) && observed !== registered;
  }

  // Facts, as verification.Facts in camelCase: direction, at, passStatus, colour, validFrom,
  // validUntil, tripStatus, multiEntry, registeredPlate, entryCheckpointId, checkpointId,
  // strictCheckpoint, personsExpected, and optionally observedPlate, observedPersons,
  // earlierRefusalAt. Returns {verdict, reason, warnings, tripStatus, passStatus, alert}: the
  // trip's and the pass's new states (null when unchanged) and the alert the scan raises.
  function decide(f) {
    const warnings = [];
    if (f.earlierRefusalAt != null) {
      const since = f.at - f.earlierRefusalAt;
      if (since >= 0 && since <= RECENT_REFUSAL_MS) {
        // Whatever this scan decides, staff must know the truck was turned away here just now.
        warnings.push("refused_recently");
      }
    }
    if (f.observedPersons != null && f.observedPersons !== f.personsExpected) {
      warnings.push("persons_mismatch");
    }
    if (plateDiffers(f.observedPlate || "", f.registeredPlate)) {
      // The code belongs to another vehicle: a shared or borrowed pass, in either direction.
      return refuse("plate_mismatch", "plate_mismatch", warnings);
    }
    return f.direction === "out" ? decideExit(f, warnings) : decideEntry(f, warnings);
  }

  function decideEntry(f, warnings) {
    if (f.tripStatus === "cancelled") {
      return refuse("cancelled", null, warnings);
    }
    if (f.passStatus === "revoked") {
      return refuse("revoked", null, warnings);
    }
    if (f.tripStatus === "inside" || f.tripStatus === "arrived") {
      // An entry for a truck already inside: the code was copied or shared.
      return refuse("already_inside", "already_inside", warnings);
    }
    if (f.passStatus === "completed" || (f.tripStatus === "exited" && !f.multiEntry)) {
      return refuse("used", null, warnings);
    }
    if (f.passStatus === "expired" || f.tripStatus === "expired" || f.at >= f.validUntil) {
      return refuse("expired", null, warnings);
    }
    if (f.at < f.validFrom) {
      return refuse("not_yet_valid", null, warnings);
    }
    if (f.entryCheckpointId !== f.checkpointId) {
      if (f.strictCheckpoint) {
        return refuse("wrong_checkpoint", null, warnings);
      }
      warnings.push("wrong_checkpoint");
    }
    if (f.colour === "red") {
      return refuse("red_code", "red_code", warnings);
    }
    const yellow = f.colour === "yellow";
    return {
      verdict: yellow ? ADMIT_WITH_TEST : ADMIT,
      reason: yellow ? "test_required" : "ok",
      warnings: warnings,
      tripStatus: "inside",
      passStatus: null,
      alert: null,
    };
  }

  // Trucks are let out of the city; an exit is refused only when the code cannot be this
  // truck's way out: cancelled or revoked, or already used to leave.
  function decideExit(f, warnings) {
    if (f.tripStatus === "cancelled") {
      return refuse("cancelled", null, warnings);
    }
    if (f.passStatus === "revoked") {
      return refuse("revoked", null, warnings);
    }
    if (f.passStatus === "completed" || f.tripStatus === "exited") {
      return refuse("used", null, warnings);
    }
    if (f.tripStatus !== "inside" && f.tripStatus !== "arrived") {
      warnings.push("not_inside");
    }
    if (f.passStatus === "expired" || f.at >= f.validUntil) {
      warnings.push("late_exit");
    }
    // A multi-entry pass stays in force for the next entry while its window lasts.
    const keepsPass = f.multiEntry && f.passStatus === "active" && f.at < f.validUntil;
    return {
      verdict: ADMIT,
      reason: "ok",
      warnings: warnings,
      tripStatus: "exited",
      passStatus: keepsPass ? null : "completed",
      alert: null,
    };
  }

  // --- One scan judged from the bundle --------------------------------------------------------

  // As trucks.validators.normalise_plate: full-width folded (NFKC), separators dropped (white
  // space as Python's re reads \s), upper-cased, and at most 16 characters kept, as the scan
  // API keeps them.
  const PLATE_SEPARATORS = new RegExp("[" + SPACES + "·•.\\-_]", "g");
  function normalisePlate(value) {
    const plate = String(value || "")
      .normalize("NFKC")
      .replace(PLATE_SEPARATORS, "")
      .toUpperCase();
    return Array.from(plate).slice(0, 16).join("");
  }

  // The bundle API's answer as judge takes it: {checkpointId, checkpointCode, strictCheckpoint,
  // offlineMaxAgeMinutes, maxPassId, passes: Map id → row object named by `fields`, keyring,
  // cursor, generatedAt, serverTimeMs}. A delta (full: false) is laid over `previous`.
  async function bundleFrom(answer, previous) {
    const passes = answer.full === false && previous ? new Map(previous.passes) : new Map();
    const fields = answer.fields;
    for (const values of answer.passes || []) {
      const row = {};
      fields.forEach(function (name, i) {
        row[name] = values[i];
      });
      passes.set(row.id, row);
    }
    return {
      checkpointId: answer.checkpoint.id,
      checkpointCode: answer.checkpoint.code,
      strictCheckpoint: Boolean(answer.policy.strict_checkpoint),
      offlineMaxAgeMinutes: answer.policy.offline_max_age_minutes,
      maxPassId: answer.max_pass_id,
      passes: passes,
      keyring: await importKeys(answer.keys),
      cursor: answer.cursor,
      generatedAt: Date.parse(answer.generated_at),
      serverTimeMs: answer.server_time_ms,
    };
  }

  // passcode.window_minute: the token carries the pass's end rounded up to the minute.
  function windowMinuteMs(seconds) {
    return Math.ceil(seconds / 60) * 60000;
  }

  function iso(seconds) {
    return new Date(seconds * 1000).toISOString();
  }

  // The pass and trip of the scan API's answer (checkpoints/scan_bodies.py), as far as the
  // bundle knows them: no driver (the bundle carries no personal data), the entry checkpoint's
  // code only when it is this one, and the states as this tablet last left them.
  function answerParts(row, bundle, tripStatus, passStatus) {
    const here = row.entry_checkpoint === bundle.checkpointId;
    return {
      pass: {
        id: row.id,
        colour: row.colour,
        colour_reasons: [],
        status: passStatus,
        valid_from: iso(row.valid_from),
        valid_until: iso(row.valid_until),
      },
      trip: {
        reference: row.reference,
        status: tripStatus,
        plate: row.plate,
        driver: { name: "", id_number: "" },
        persons_expected: row.persons,
        entry_checkpoint: here ? bundle.checkpointCode || null : null,
        entry_checkpoint_id: row.entry_checkpoint,
        multi_entry: row.multi_entry,
      },
    };
  }

  function localEntry(local, passId) {
    if (!local) {
      return null;
    }
    return (typeof local.get === "function" ? local.get(passId) : local[passId]) || null;
  }

  // The offline verdict of one scan at `at` (ms, or a Date): the tablet's clock corrected by
  // its offset to the server's. `bundle` as bundleFrom makes it (its keyring included);
  // `local`: Map passId → {tripStatus, passStatus, lastRefusalAt} of what this tablet did
  // offline since the sync, laid over the bundle's row. Returns {verdict, reason, warnings, pass,
  // trip, newer, passId, tokenError, alert, priorityLane, localAfter}; localAfter is the entry
  // for `local` once this scan is kept (the caller stores it: judging changes nothing).
  async function judge(args) {
    const bundle = args.bundle;
    const at = args.at instanceof Date ? args.at.getTime() : args.at;
    if (typeof at !== "number" || !Number.isFinite(at)) {
      // Every comparison with NaN is false: the window checks would let the pass through.
      throw new TypeError("judge needs the time of the scan in milliseconds");
    }
    const claims = await verifyToken(args.token, bundle.keyring);
    const result = {
      verdict: REFUSE,
      reason: "invalid",
      warnings: [],
      pass: null,
      trip: null,
      newer: false,
      passId: null,
      tokenError: null,
      alert: null,
      priorityLane: false,
      localAfter: null,
    };
    if (!claims.ok) {
      result.tokenError = claims.code;
      result.alert = claims.code === "bad_signature" ? "forged" : null; // as the server raises
      return result;
    }
    result.passId = claims.passId;
    const row = bundle.passes.get(claims.passId);
    // Well signed, yet no such pass, or not this pass's window (the server's lock refuses it
    // the same way). Above the highest id at the sync it is a pass issued since: say so.
    if (!row || windowMinuteMs(row.valid_until) !== claims.validUntil) {
      result.reason = "unknown";
      result.newer = !row && claims.passId > bundle.maxPassId;
      return result;
    }
    const mine = localEntry(args.local, claims.passId) || {};
    const tripStatus = mine.tripStatus || row.trip_status;
    const passStatus = mine.passStatus || row.status;
    const lastRefusalAt = mine.lastRefusalAt == null ? null : mine.lastRefusalAt;
    const decision = decide({
      direction: args.direction,
      at: at,
      passStatus: passStatus,
      colour: row.colour,
      validFrom: row.valid_from * 1000,
      validUntil: row.valid_until * 1000,
      tripStatus: tripStatus,
      multiEntry: Boolean(row.multi_entry),
      registeredPlate: row.plate,
      entryCheckpointId: row.entry_checkpoint,
      checkpointId: bundle.checkpointId,
      strictCheckpoint: bundle.strictCheckpoint,
      personsExpected: row.persons,
      observedPlate: normalisePlate(args.observedPlate),
      observedPersons: args.observedPersons == null ? null : args.observedPersons,
      earlierRefusalAt: lastRefusalAt,
    });
    const parts = answerParts(row, bundle, tripStatus, passStatus);
    result.verdict = decision.verdict;
    result.reason = decision.reason;
    result.warnings = decision.warnings;
    result.alert = decision.alert;
    result.pass = parts.pass;
    result.trip = parts.trip;
    result.priorityLane = Boolean(row.priority_lane);
    // Only what this tablet changed goes in the overlay, so a later sync's row is not hidden
    // by a state the tablet merely copied from the bundle.
    result.localAfter = {
      tripStatus: decision.tripStatus || mine.tripStatus || null,
      passStatus: decision.passStatus || mine.passStatus || null,
      lastRefusalAt: decision.verdict === REFUSE ? at : lastRefusalAt,
    };
    return result;
  }

  window.ScanOffline = {
    configure: function (settings) {
      if (settings && "nobleUrl" in settings) {
        options.nobleUrl = settings.nobleUrl;
        noblePromise = null;
      }
    },
    // Tests run both engines on the same tokens; a page has no reason to force the fallback.
    useNoble: function (on) {
      forceNoble = Boolean(on);
    },
    engine: engine,
    normalise: normalise,
    looksLikeToken: looksLikeToken,
    normalisePlate: normalisePlate,
    plateDiffers: plateDiffers,
    importKeys: importKeys,
    verifyToken: verifyToken,
    decide: decide,
    bundleFrom: bundleFrom,
    judge: judge,
    RECENT_REFUSAL_MS: RECENT_REFUSAL_MS,
    VerifierUnavailable: VerifierUnavailable,
  };
})();
