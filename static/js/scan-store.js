// What the checkpoint's scan page keeps on the tablet, in IndexedDB (docs/architecture.md,
// "Offline"): the bundle of passes it decides offline from, the scans not sent yet, and
// what this tablet did offline since its last sync. IndexedDB rather than localStorage: it holds
// tens of thousands of rows, survives a closed tab and a restarted browser, and is written in
// transactions, so a scan is either queued whole or not at all.
//
// One database per checkpoint: a tablet moved to another checkpoint keeps each one's queue apart.
// A few lines of promises over the IndexedDB API stand in for a wrapper library.
(function () {
  "use strict";

  const VERSION = 1;
  const STORES = {
    meta: { keyPath: "key" }, // the bundle's cursor, keys, policy, when it was synced
    passes: {}, // bundle rows as the API sends them (arrays), keyed by pass id out of line
    queue: { keyPath: "scan_id" }, // scans not sent yet
    local: { keyPath: "pass_id" }, // what this tablet did to a pass since the last sync
  };

  function done(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () {
        resolve(request.result);
      };
      request.onerror = function () {
        reject(request.error);
      };
    });
  }

  function committed(transaction) {
    return new Promise(function (resolve, reject) {
      transaction.oncomplete = function () {
        resolve();
      };
      transaction.onerror = transaction.onabort = function () {
        reject(transaction.error || new Error("IndexedDB transaction aborted"));
      };
    });
  }

  function openDatabase(name) {
    const request = window.indexedDB.open(name, VERSION);
    request.onupgradeneeded = function () {
      const db = request.result;
      Object.keys(STORES).forEach(function (store) {
        if (!db.objectStoreNames.contains(store)) {
          db.createObjectStore(store, STORES[store]);
        }
      });
    };
    return done(request);
  }

  // The store of one checkpoint. Every method returns a promise; writes resolve once committed.
  function Store(db) {
    this.db = db;
  }

  Store.prototype.all = function (name) {
    return done(this.db.transaction(name, "readonly").objectStore(name).getAll());
  };

  Store.prototype.get = function (name, key) {
    return done(this.db.transaction(name, "readonly").objectStore(name).get(key));
  };

  Store.prototype.put = function (name, value) {
    const transaction = this.db.transaction(name, "readwrite");
    transaction.objectStore(name).put(value);
    return committed(transaction);
  };

  Store.prototype.remove = function (name, key) {
    const transaction = this.db.transaction(name, "readwrite");
    transaction.objectStore(name).delete(key);
    return committed(transaction);
  };

  // A bundle from the API, written with its meta in one transaction: a full one replaces the
  // passes held, a delta updates them; either way the tablet never holds half a sync.
  Store.prototype.saveBundle = function (bundle, meta) {
    const transaction = this.db.transaction(["passes", "meta"], "readwrite");
    const passes = transaction.objectStore("passes");
    if (bundle.full) {
      passes.clear();
    }
    bundle.passes.forEach(function (row) {
      passes.put(row, row[0]);
    });
    (bundle.drop || []).forEach(function (id) {
      passes.delete(id);
    });
    transaction.objectStore("meta").put(Object.assign({ key: "bundle" }, meta));
    return committed(transaction);
  };

  window.ScanStore = {
    // The store of a checkpoint, or null where the browser keeps no IndexedDB (some private
    // modes): the page then works online only, as it did before it could work offline.
    open: function (checkpoint) {
      if (!window.indexedDB) {
        return Promise.resolve(null);
      }
      return openDatabase("passcode-scan-" + checkpoint).then(
        function (db) {
          return new Store(db);
        },
        function () {
          return null;
        },
      );
    },
  };
})();
