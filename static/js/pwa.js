/* On every page: the service worker (/sw.js), ticks made with no network, and a clean logout.
 * Plain JavaScript, no build step; without it the site works as before, online. docs/push.md.
 *
 * - Registers the service worker and asks it to keep the signed-in member's
 *   pages for offline use (the worker fetches the list: today, progress, the
 *   coming sessions).
 * - A tick-off form (data-offline-tick) that gets no answer at all is saved in
 *   IndexedDB, and the box says "Saved on this device, will sync". It is sent
 *   to the API when the network is back, with its own Idempotency-Key, so a
 *   send that was received but whose answer got lost is not a second tick.
 * - Logging out sends what is still queued, forgets this device's push
 *   subscription, and deletes the kept pages and the queue; the server's
 *   Clear-Site-Data header does the same once more.
 */
(function () {
  "use strict";

  // Strings come from Django's JavaScript catalogue (/jsi18n/, loaded before this file);
  // without it this still works, in English.
  var gettext = window.gettext || function (text) { return text; };
  var interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\(\w+\)s/g, function (match) { return String(values[match.slice(2, -2)]); });
  };
  function t(format, values) {
    return interpolate(format, values, true);
  }

  var script = document.currentScript;
  var member = script ? script.dataset.member || "" : "";
  var logoutPath = script ? script.dataset.logout || "" : "";
  var DB_NAME = "stretchhub";
  var STORE = "ticks";
  var RETRY_MS = 5000;

  /* ---- The service worker ---- */

  var worker = "serviceWorker" in navigator;

  function tell(message) {
    if (!worker) return;
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.active) registration.active.postMessage(message);
    });
  }

  if (worker) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {
      /* Private windows and old browsers: the site works online as before. */
    });
    if (navigator.onLine) tell({ type: "refresh", member: member, at: Date.now() });
    document.addEventListener("fragment:replaced", function () {
      // A tick or an undo: the kept copy of this page is out of date.
      tell({ type: "refresh-page", path: window.location.pathname });
    });
  }

  /* ---- The queue (IndexedDB) ---- */

  function openDb() {
    return new Promise(function (resolve, reject) {
      if (!window.indexedDB) return reject(new Error("no IndexedDB"));
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STORE, { keyPath: "key" });
      };
      request.onsuccess = function () {
        resolve(request.result);
      };
      request.onerror = function () {
        reject(request.error);
      };
    });
  }

  function withStore(mode, action) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(STORE, mode);
        var result = action(transaction.objectStore(STORE));
        transaction.oncomplete = function () {
          db.close();
          resolve(result && "result" in result ? result.result : undefined);
        };
        transaction.onerror = transaction.onabort = function () {
          db.close();
          reject(transaction.error);
        };
      });
    });
  }

  function queued() {
    return withStore("readonly", function (store) {
      return store.getAll();
    }).then(function (entries) {
      return entries || [];
    });
  }

  function save(entry) {
    return withStore("readwrite", function (store) {
      store.put(entry);
    });
  }

  function drop(key) {
    return withStore("readwrite", function (store) {
      store.delete(key);
    });
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "tick-" + Date.now() + "-" + Math.random().toString(16).slice(2);
  }

  /* ---- What the tick box says ---- */

  function announce(text) {
    var live = document.querySelector("[data-tick-live]");
    if (!live) return;
    live.textContent = "";
    window.setTimeout(function () {
      live.textContent = text;
    }, 50);
  }

  function formFor(entry) {
    var form = document.querySelector("form[data-offline-tick]");
    return form && form.dataset.offlineTick === entry.api && form.dataset.session === String(entry.body.session)
      ? form
      : null;
  }

  function showQueued(form, entry) {
    var box = form.closest("[data-fragment]") || form.parentNode;
    var note = box.querySelector("[data-tick-queued]");
    if (!note) {
      note = document.createElement("div");
      note.className = "tick-box__queued";
      note.setAttribute("data-tick-queued", "");
      note.setAttribute("role", "status");
      form.parentNode.insertBefore(note, form);
    }
    // The box's "Done? Record it here" line is about the form, now hidden.
    var intro = note.previousElementSibling;
    if (intro && intro.matches("p.muted")) intro.hidden = true;
    note.textContent = "";
    var title = document.createElement("p");
    title.className = "tick-box__queued-title";
    var text = document.createElement("p");
    text.className = "muted";
    if (entry.error) {
      title.textContent = t(gettext("Not synced: %(error)s"), { error: entry.error });
      text.textContent = gettext("Your tick is still saved on this device.");
      var discard = document.createElement("button");
      discard.type = "button";
      discard.className = "link-button";
      discard.textContent = gettext("Forget this tick");
      discard.addEventListener("click", function () {
        drop(entry.key).then(function () {
          if (note.previousElementSibling && note.previousElementSibling.matches("p.muted")) {
            note.previousElementSibling.hidden = false;
          }
          note.remove();
          form.hidden = false;
        });
      });
      note.appendChild(title);
      note.appendChild(text);
      note.appendChild(discard);
    } else {
      title.textContent = gettext("Saved on this device, will sync");
      text.textContent = gettext("You ticked this session off while offline. It is sent as soon as you are back online.");
      note.appendChild(title);
      note.appendChild(text);
    }
    form.hidden = true;
  }

  function number(value) {
    return value === "" || value === null ? null : Number(value);
  }

  document.addEventListener("fragment:offline", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-offline-tick]") || !member || !window.indexedDB) return;
    var data = new FormData(form);
    var body = {
      session: Number(form.dataset.session),
      pain_before: number(data.get("pain_before")),
      pain_after: number(data.get("pain_after")),
      note: String(data.get("note") || ""),
    };
    var bad = [body.pain_before, body.pain_after].some(function (value) {
      return value !== null && !(Number.isInteger(value) && value >= 0 && value <= 10);
    });
    // Let the server's form say what is wrong, once there is a network; nothing is queued.
    if (bad) return;
    event.preventDefault();
    var entry = { key: newKey(), member: member, api: form.dataset.offlineTick, body: body, savedAt: Date.now(), error: "" };
    save(entry).then(function () {
      showQueued(form, entry);
      announce(gettext("Saved on this device. It syncs when you are back online."));
      // Online but no answer (a poor signal): tried again shortly.
      later();
    });
  });

  /* ---- Sending the queue ---- */

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function showSynced(entry) {
    var form = formFor(entry);
    var note = form && form.parentNode.querySelector("[data-tick-queued]");
    if (!note) return;
    note.querySelector(".tick-box__queued-title").textContent = gettext("Ticked off and synced");
    note.querySelector(".muted").textContent = gettext("Your tick is saved: it counts in your progress.");
    // The kept copy of this page still shows the form.
    tell({ type: "refresh-page", path: window.location.pathname });
  }

  function send(entry) {
    return fetch(entry.api, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrfToken(),
        "Idempotency-Key": entry.key,
      },
      body: JSON.stringify(entry.body),
    }).then(function (response) {
      if (response.ok) return { done: true };
      if (response.status === 401 || response.status === 403) return { done: false, stop: true };
      return response
        .json()
        .catch(function () {
          return {};
        })
        .then(function (answer) {
          return { done: false, error: answer.message || t(gettext("the server answered %(status)s."), { status: response.status }) };
        });
    });
  }

  var flushing = null;

  function unsent() {
    return queued().then(function (entries) {
      return entries.some(function (entry) {
        return entry.member === member && !entry.error;
      });
    });
  }

  // Sends this member's queued ticks; resolves to whether any is still waiting.
  function flush() {
    if (flushing) return flushing;
    if (!member || !window.indexedDB) return Promise.resolve(false);
    if (!navigator.onLine) return unsent().catch(function () {
      return false;
    });
    flushing = queued()
      .then(function (entries) {
        // Another member's ticks (an old browser profile) are never sent as this one's.
        var mine = entries.filter(function (entry) {
          return entry.member === member && !entry.error;
        });
        var synced = false;
        return mine
          .reduce(function (previous, entry) {
            return previous.then(function (stopped) {
              if (stopped) return true;
              return send(entry).then(function (result) {
                if (result.done) {
                  synced = true;
                  return drop(entry.key).then(function () {
                    showSynced(entry);
                    return false;
                  });
                }
                if (result.stop) return true;
                entry.error = result.error;
                return save(entry).then(function () {
                  var form = formFor(entry);
                  if (form) showQueued(form, entry);
                  return false;
                });
              });
            });
          }, Promise.resolve(false))
          .then(function () {
            if (synced) announce(gettext("Synced: your tick is saved."));
          });
      })
      .catch(function () {
        /* No network after all: tried again later. */
      })
      .then(function () {
        flushing = null;
        return unsent();
      })
      .catch(function () {
        flushing = null;
        return false;
      });
    return flushing;
  }

  var timer = null;

  // Offline, the "online" event sends the queue; online (a send that got no answer), a retry soon.
  function later() {
    window.clearTimeout(timer);
    timer = null;
    if (!navigator.onLine) return;
    timer = window.setTimeout(function () {
      timer = null;
      flush().then(function (left) {
        if (left) later();
      });
    }, RETRY_MS);
  }

  window.addEventListener("online", function () {
    window.clearTimeout(timer);
    timer = null;
    flush().then(function (left) {
      if (left) later();
    });
  });

  function showWhatIsQueued() {
    if (!member || !window.indexedDB) return;
    queued()
      .then(function (entries) {
        entries.forEach(function (entry) {
          var form = entry.member === member && formFor(entry);
          if (form) showQueued(form, entry);
        });
        if (entries.length) {
          flush().then(function (left) {
            if (left) later();
          });
        }
      })
      .catch(function () {});
  }

  showWhatIsQueued();

  /* ---- Logging out ---- */

  function forgetPush() {
    if (!worker || !("PushManager" in window)) return Promise.resolve("");
    return navigator.serviceWorker.getRegistration("/").then(function (registration) {
      if (!registration) return "";
      return registration.pushManager.getSubscription().then(function (subscription) {
        if (!subscription) return "";
        var endpoint = subscription.endpoint;
        return subscription.unsubscribe().then(
          function () {
            return endpoint;
          },
          function () {
            return endpoint;
          }
        );
      });
    });
  }

  function forgetKept() {
    var steps = [];
    if (window.caches) {
      steps.push(
        caches.keys().then(function (names) {
          return Promise.all(
            names
              .filter(function (name) {
                return name.indexOf("stretchhub-") === 0;
              })
              .map(function (name) {
                return caches.delete(name);
              })
          );
        })
      );
    }
    if (window.indexedDB) {
      steps.push(
        new Promise(function (resolve) {
          var request = indexedDB.deleteDatabase(DB_NAME);
          request.onsuccess = request.onerror = request.onblocked = function () {
            resolve();
          };
        })
      );
    }
    return Promise.all(steps);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!logoutPath || !form.matches || form.getAttribute("action") !== logoutPath) return;
    event.preventDefault();
    if (!navigator.onLine) {
      // Logging out needs the server; clearing this device now would lose what is queued.
      window.alert(gettext("You are offline. Log out when you are back online: ticks saved on this device are sent first."));
      return;
    }
    flush()
      .then(function (left) {
        if (left && !window.confirm(gettext("Some ticks made offline have not synced yet. Log out anyway and lose them?"))) {
          throw new Error("stay");
        }
        return forgetPush();
      })
      .then(function (endpoint) {
        if (endpoint) {
          var input = document.createElement("input");
          input.type = "hidden";
          input.name = "push_endpoint";
          input.value = endpoint;
          form.appendChild(input);
        }
        return forgetKept();
      })
      .then(
        function () {
          HTMLFormElement.prototype.submit.call(form);
        },
        function (error) {
          if (error && error.message !== "stay") HTMLFormElement.prototype.submit.call(form);
        }
      );
  });
})();
