/* Switch push notifications on and off for this device, on the settings page (docs/push.md).
 *
 * The browser asks for permission only when the member presses "Switch push
 * on", never on page load. The subscription it makes (with our VAPID public
 * key) is sent to the server, which lists it under "Your devices". A
 * subscription this browser already has is sent again on each visit, so the
 * server knows it belongs to this session (logging out here stops it).
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

  var SUBSCRIBE_WAIT_MS = 15000;
  var card = document.querySelector("[data-push]");
  if (!card || !card.dataset.vapidKey) return;
  var status = card.querySelector("[data-push-status]");
  var onButton = card.querySelector("[data-push-on]");
  var offButton = card.querySelector("[data-push-off]");

  function say(text) {
    status.textContent = text;
  }

  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    say(gettext("This browser cannot receive push notifications."));
    return;
  }

  function keyBytes(base64url) {
    var base64 = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function sameKey(buffer) {
    if (!buffer) return true;
    var ours = keyBytes(card.dataset.vapidKey);
    var theirs = new Uint8Array(buffer);
    if (ours.length !== theirs.length) return false;
    for (var i = 0; i < ours.length; i++) if (ours[i] !== theirs[i]) return false;
    return true;
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function worker() {
    return navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    });
  }

  function store(subscription) {
    return fetch(card.dataset.subscribeUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(subscription.toJSON()),
    }).then(function (response) {
      return response
        .json()
        .catch(function () {
          return {};
        })
        .then(function (body) {
          if (!response.ok) throw new Error(body.message || t(gettext("The server answered %(status)s."), { status: response.status }));
          return body;
        });
    });
  }

  function rowOf(endpoint) {
    var rows = card.querySelectorAll("[data-push-device]");
    for (var i = 0; i < rows.length; i++) if (rows[i].dataset.endpoint === endpoint) return rows[i];
    return null;
  }

  function showOn(endpoint) {
    var row = rowOf(endpoint);
    if (row) row.querySelector("[data-this-device]").hidden = false;
    say(gettext("Push is on for this device."));
    onButton.hidden = true;
    offButton.hidden = false;
  }

  function showOff(text) {
    say(text || gettext("Push is off for this device."));
    onButton.hidden = false;
    onButton.disabled = false;
    offButton.hidden = true;
  }

  worker()
    .then(function (registration) {
      return registration.pushManager.getSubscription();
    })
    .then(function (subscription) {
      if (!subscription || Notification.permission !== "granted") {
        if (Notification.permission === "denied") {
          showOff(gettext("Notifications are blocked for this site. Allow them in your browser's site settings, then reload."));
        } else {
          showOff();
        }
        return;
      }
      if (!sameKey(subscription.options && subscription.options.applicationServerKey)) {
        // Made for an earlier server key: no push could reach it any more.
        return subscription.unsubscribe().then(function () {
          showOff();
        });
      }
      return store(subscription).then(function (saved) {
        if (!rowOf(subscription.endpoint) || saved.created) {
          window.location.reload();
          return;
        }
        showOn(subscription.endpoint);
      });
    })
    .catch(function (error) {
      showOff(t(gettext("Push is off for this device. %(error)s"), { error: error.message }));
    });

  onButton.addEventListener("click", function () {
    onButton.disabled = true;
    say(gettext("Asking your browser…"));
    Notification.requestPermission()
      .then(function (permission) {
        if (permission !== "granted") {
          var reason = new Error(
            permission === "denied"
              ? gettext("Notifications are blocked for this site. Allow them in your browser's site settings, then try again.")
              : gettext("You did not allow notifications, so push stays off.")
          );
          reason.ours = true;
          throw reason;
        }
        return worker();
      })
      .then(function (registration) {
        var subscribing = registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(card.dataset.vapidKey),
        });
        // A browser that cannot reach its push service may never answer.
        var patience = new Promise(function (resolve, reject) {
          window.setTimeout(function () {
            reject(new Error(t(gettext("no answer in %(seconds)s seconds"), { seconds: SUBSCRIBE_WAIT_MS / 1000 })));
          }, SUBSCRIBE_WAIT_MS);
        });
        return Promise.race([subscribing, patience]).catch(function (error) {
            var reason = new Error(
              t(gettext("Your browser could not reach its push service (%(error)s). Try again later."), { error: error.message })
            );
            reason.ours = true;
            throw reason;
          });
      })
      .then(store)
      .then(function () {
        window.location.reload();
      })
      .catch(function (error) {
        showOff(error.ours ? error.message : t(gettext("Push could not be switched on: %(error)s"), { error: error.message }));
      });
  });

  offButton.addEventListener("click", function () {
    offButton.disabled = true;
    worker()
      .then(function (registration) {
        return registration.pushManager.getSubscription();
      })
      .then(function (subscription) {
        if (!subscription) return;
        var row = rowOf(subscription.endpoint);
        var removed = row
          ? fetch(row.querySelector("[data-push-remove]").action, {
              method: "POST",
              credentials: "same-origin",
              headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
            })
          : Promise.resolve();
        return removed.then(function () {
          return subscription.unsubscribe();
        });
      })
      .then(function () {
        window.location.reload();
      })
      .catch(function (error) {
        offButton.disabled = false;
        say(t(gettext("Push could not be switched off: %(error)s"), { error: error.message }));
      });
  });
})();
