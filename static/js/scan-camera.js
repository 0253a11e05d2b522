// Camera scanning for the scan page: the camera's video, read a few times a second by a
// BarcodeDetector. The browser's own detector is used where it reads QR codes (Android, ChromeOS,
// macOS); elsewhere the barcode-detector package (npm) stands in with the same API, as a ponyfill
// loaded from our static files, its .wasm too: nothing comes from a CDN.
//
// Every step that can hang has a time-out and ends in a status the page shows: a camera that
// never answers, and a decoder that never starts (it hangs silently when a Content-Security-
// Policy lacks 'wasm-unsafe-eval').
(function () {
  "use strict";

  const CAMERA_TIMEOUT_MS = 10000;
  const DECODER_TIMEOUT_MS = 15000;
  const DETECT_TIMEOUT_MS = 5000;
  // About 8 reads a second: a code is read well within a second of being shown, and a tablet
  // does not run hot all day.
  const INTERVAL_MS = 120;

  class CameraError extends Error {
    constructor(code, detail) {
      super(detail || code);
      this.code = code;
    }
  }

  function withTimeout(promise, ms, code) {
    return new Promise(function (resolve, reject) {
      const timer = setTimeout(function () {
        reject(new CameraError(code));
      }, ms);
      promise.then(
        function (value) {
          clearTimeout(timer);
          resolve(value);
        },
        function (error) {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  let detectorPromise = null;

  async function makeDetector(detectorUrl, wasmUrl) {
    const Native = window.BarcodeDetector;
    if (Native && typeof Native.getSupportedFormats === "function") {
      try {
        const formats = await Native.getSupportedFormats();
        if (formats.indexOf("qr_code") !== -1) {
          return new Native({ formats: ["qr_code"] });
        }
      } catch (error) {
        // Fall through to the ponyfill.
      }
    }
    const module = await import(detectorUrl);
    const wasm = new URL(wasmUrl, window.location.href).href;
    // Point the decoder at our copy of its .wasm (by default it fetches one from a CDN), and
    // load it now rather than at the first frame, so a failure shows before anyone waits on it.
    await module.prepareZXingModule({
      overrides: {
        locateFile: function (path, prefix) {
          return path.endsWith(".wasm") ? wasm : prefix + path;
        },
      },
      fireImmediately: true,
    });
    return new module.BarcodeDetector({ formats: ["qr_code"] });
  }

  function loadDetector(detectorUrl, wasmUrl) {
    if (!detectorPromise) {
      detectorPromise = makeDetector(detectorUrl, wasmUrl);
      detectorPromise.catch(function () {
        detectorPromise = null;
      });
    }
    return withTimeout(detectorPromise, DECODER_TIMEOUT_MS, "decoder_failed").catch(
      function (error) {
        detectorPromise = null;
        throw error.code ? error : new CameraError("decoder_failed", String(error));
      },
    );
  }

  function cameraError(error) {
    if (error instanceof CameraError) {
      return error;
    }
    const name = error && error.name;
    if (name === "NotAllowedError" || name === "SecurityError") {
      return new CameraError("denied");
    }
    if (name === "NotFoundError" || name === "OverconstrainedError") {
      return new CameraError("no_camera");
    }
    return new CameraError("failed", (error && error.message) || String(error));
  }

  // A camera opened ahead (``prepare``) and not used within this time is closed again: the
  // tablet does not hold its camera, light on, for a page nobody scans from.
  const WARM_MS = 5 * 60000;

  function mark(name) {
    if (window.performance && typeof window.performance.mark === "function") {
      window.performance.mark(name);
    }
  }

  // Whether the camera may be opened without asking: a checkpoint's tablet allowed it once.
  async function cameraAllowed() {
    try {
      const state = await navigator.permissions.query({ name: "camera" });
      return state.state === "granted";
    } catch (error) {
      return false; // no Permissions API for the camera: wait for the button
    }
  }

  // options: video (element), detectorUrl, wasmUrl, onCode(text), onStatus(code, detail)
  function create(options) {
    const video = options.video;
    let warm = null; // a stream opened by prepare(), not shown yet
    let warmTimer = null;
    let stream = null;
    let detector = null;
    let running = false;
    let timer = null;
    let generation = 0;
    let failures = 0;

    function status(code, detail) {
      options.onStatus(code, detail || "");
    }

    async function openCamera() {
      if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        throw new CameraError("insecure");
      }
      const request = navigator.mediaDevices.getUserMedia({
        audio: false,
        video: {
          facingMode: { ideal: "environment" },
          width: { ideal: 1280 },
          height: { ideal: 720 },
        },
      });
      try {
        return await withTimeout(request, CAMERA_TIMEOUT_MS, "timeout");
      } catch (error) {
        // A camera that answers after the time-out must not stay on unseen.
        request.then(function (late) {
          if (late !== stream) {
            late.getTracks().forEach(function (track) {
              track.stop();
            });
          }
        }, function () {});
        throw error;
      }
    }

    function dropWarm() {
      clearTimeout(warmTimer);
      if (warm) {
        warm.getTracks().forEach(function (track) {
          track.stop();
        });
      }
      warm = null;
    }

    // Made ready while the page opens: the decoder loaded and run once (its first frame is its
    // slowest), and where the camera is allowed already, its stream opened and playing, so the
    // button shows a reading camera at once.
    async function prepare() {
      const decoder = loadDetector(options.detectorUrl, options.wasmUrl).then(function (made) {
        const blank = document.createElement("canvas");
        blank.width = blank.height = 8;
        return made.detect(blank).catch(function () {});
      });
      decoder.catch(function () {}); // a failure shows when the camera is started
      if (running || stream || warm || !(await cameraAllowed())) {
        return;
      }
      const mine = generation;
      let opened;
      try {
        opened = await openCamera();
      } catch (error) {
        return; // the button tries again, and shows why
      }
      if (mine !== generation || running || stream) {
        opened.getTracks().forEach(function (track) {
          track.stop();
        });
        return;
      }
      warm = opened;
      warmTimer = setTimeout(dropWarm, WARM_MS);
      video.srcObject = warm;
      video.play().catch(function () {});
      mark("camera:warm");
    }

    async function start() {
      if (running) {
        return;
      }
      const mine = ++generation;
      failures = 0;
      try {
        status("starting");
        clearTimeout(warmTimer);
        const opened = warm || (await openCamera());
        warm = null;
        if (mine !== generation) {
          opened.getTracks().forEach(function (track) {
            track.stop();
          });
          return;
        }
        stream = opened;
        if (video.srcObject !== stream) {
          video.srcObject = stream;
        }
        await withTimeout(video.play(), CAMERA_TIMEOUT_MS, "timeout");
        mark("camera:open");
        status("loading");
        detector = await loadDetector(options.detectorUrl, options.wasmUrl);
        if (mine !== generation) {
          return;
        }
        running = true;
        mark("camera:ready");
        status("ready");
        timer = setTimeout(read, 0);
      } catch (error) {
        const failure = cameraError(error);
        stop(true);
        status(failure.code, failure.message);
        throw failure;
      }
    }

    async function read() {
      if (!running) {
        return;
      }
      const mine = generation;
      if (!document.hidden && video.readyState >= 2) {
        try {
          const found = await withTimeout(detector.detect(video), DETECT_TIMEOUT_MS, "decoder_failed");
          failures = 0;
          if (mine !== generation) {
            return;
          }
          for (const code of found) {
            if (code.rawValue) {
              options.onCode(code.rawValue);
              break;
            }
          }
        } catch (error) {
          failures += 1;
          if (failures >= 5) {
            stop(true);
            status("decoder_failed", String(error));
            return;
          }
        }
      }
      if (running && mine === generation) {
        timer = setTimeout(read, INTERVAL_MS);
      }
    }

    function stop(quiet) {
      generation += 1;
      running = false;
      dropWarm();
      clearTimeout(timer);
      if (stream) {
        stream.getTracks().forEach(function (track) {
          track.stop();
        });
      }
      stream = null;
      video.srcObject = null;
      if (!quiet) {
        status("stopped");
      }
    }

    return {
      prepare: prepare,
      start: start,
      stop: function () {
        stop(false);
      },
      isOn: function () {
        return running || stream !== null;
      },
    };
  }

  window.ScanCamera = { create: create };
})();
