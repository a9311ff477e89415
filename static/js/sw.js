/* StretchHub's service worker, served as /sw.js (stretchhub/pwa.py), which puts
 * self.STRETCHHUB in front of this file: the release's version, the static
 * shell and the URLs it uses. The rules it follows: docs/push.md.
 *
 * Two caches, both named after the release, so a deploy starts afresh and
 * the old ones are deleted when the new worker takes over:
 *   stretchhub-static-<version>  styles, scripts, icons and the offline page:
 *                                nothing personal.
 *   stretchhub-pages-<version>   the signed-in member's pages kept for use with
 *                                no network (today, progress, the coming
 *                                sessions) and the pictures they show, with a
 *                                note of whose they are. Emptied when another
 *                                member (or nobody) is signed in, and at logout.
 * Pages come from the network first; a kept copy answers only when the network
 * does not, or is too slow to wait for.
 */
(function () {
  "use strict";

  var CONFIG = self.STRETCHHUB;
  var PREFIX = "stretchhub-";
  var STATIC = PREFIX + "static-" + CONFIG.version;
  var PAGES = PREFIX + "pages-" + CONFIG.version;
  // A made-up URL in the pages cache: whose pages they are and when they were fetched.
  var META = new URL("/offline/kept.json", self.location.origin).href;
  var REFRESH_EVERY_MS = 10 * 60 * 1000;
  // A poor signal: past this, a kept copy of the page is shown rather than a blank screen.
  var NETWORK_WAIT_MS = 4000;

  function sameOrigin(url) {
    return new URL(url, self.location.origin).origin === self.location.origin;
  }

  /* ---- Install and take over ---- */

  self.addEventListener("install", function (event) {
    event.waitUntil(
      caches
        .open(STATIC)
        .then(function (cache) {
          return cache.addAll(CONFIG.shell.concat([CONFIG.offlinePage]));
        })
        .then(function () {
          return self.skipWaiting();
        })
    );
  });

  self.addEventListener("activate", function (event) {
    event.waitUntil(
      caches
        .keys()
        .then(function (names) {
          var old = names.filter(function (name) {
            return name.indexOf(PREFIX) === 0 && name !== STATIC && name !== PAGES;
          });
          return Promise.all(old.map(function (name) {
            return caches.delete(name);
          }));
        })
        .then(function () {
          return self.clients.claim();
        })
    );
  });

  /* ---- Answering requests ---- */

  function withTimeout(promise, ms) {
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () {
        reject(new Error("timeout"));
      }, ms);
      promise.then(
        function (value) {
          clearTimeout(timer);
          resolve(value);
        },
        function (error) {
          clearTimeout(timer);
          reject(error);
        }
      );
    });
  }

  function keptPage(request) {
    // Without the query: a page opened as /…/?speed=10 is the same page.
    return caches.open(PAGES).then(function (cache) {
      return cache.match(request.url, { ignoreSearch: true, ignoreVary: true });
    });
  }

  function page(request) {
    var network = fetch(request).then(function (response) {
      if (response.ok && !response.redirected) refreshIfKept(request.url, response.clone());
      return response;
    });
    return withTimeout(network, NETWORK_WAIT_MS).catch(function () {
      return keptPage(request).then(function (kept) {
        if (kept) return kept;
        return network.catch(function () {
          return caches.match(CONFIG.offlinePage, { ignoreVary: true });
        });
      });
    });
  }

  function refreshIfKept(url, response) {
    var path = new URL(url).pathname;
    caches.open(PAGES).then(function (cache) {
      return cache.match(path, { ignoreVary: true }).then(function (kept) {
        if (kept) return cache.put(path, response);
      });
    });
  }

  function asset(request) {
    // Static files are named per release in production: a kept copy is the right one.
    return caches.match(request, { ignoreVary: true }).then(function (kept) {
      return kept || fetch(request);
    });
  }

  function networkElseKept(request) {
    return fetch(request).catch(function (error) {
      return caches.match(request, { ignoreVary: true }).then(function (kept) {
        if (kept) return kept;
        throw error;
      });
    });
  }

  self.addEventListener("fetch", function (event) {
    var request = event.request;
    // Writes always go to the network: a tick made offline is queued by the page (pwa.js).
    if (request.method !== "GET" || !sameOrigin(request.url)) return;
    var url = new URL(request.url);
    if (request.mode === "navigate") {
      event.respondWith(page(request));
    } else if (url.pathname.indexOf(CONFIG.staticPrefix) === 0) {
      event.respondWith(asset(request));
    } else if (url.pathname.indexOf("/api/") !== 0 && url.pathname !== CONFIG.offlinePages) {
      // Pictures on kept pages, and the like.
      event.respondWith(networkElseKept(request));
    }
  });

  /* ---- Keeping the member's pages ---- */

  var ASSET_ATTRIBUTES = /<(?:img|script|source)\b[^>]*?\bsrc="([^"]+)"|<link\b[^>]*?\brel="stylesheet"[^>]*?\bhref="([^"]+)"/g;

  function assetsIn(html) {
    var found = [];
    var match;
    ASSET_ATTRIBUTES.lastIndex = 0;
    while ((match = ASSET_ATTRIBUTES.exec(html))) {
      var url = (match[1] || match[2]).replace(/&amp;/g, "&");
      if (sameOrigin(url)) found.push(new URL(url, self.location.origin).pathname);
    }
    return found;
  }

  function readMeta(cache) {
    return cache.match(META).then(function (response) {
      return response ? response.json() : null;
    });
  }

  function keepPage(cache, path, assets) {
    return fetch(path, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
      // Signed out meanwhile (a redirect to the login page), or gone: not kept.
      if (!response.ok || response.redirected) return;
      return response
        .clone()
        .text()
        .then(function (html) {
          assetsIn(html).forEach(function (url) {
            assets[url] = true;
          });
          return cache.put(path, response);
        });
    });
  }

  function keepAsset(url) {
    var target = url.indexOf(CONFIG.staticPrefix) === 0 ? STATIC : PAGES;
    return caches.open(target).then(function (cache) {
      return cache.match(url, { ignoreVary: true }).then(function (kept) {
        if (kept) return;
        return fetch(url, { credentials: "same-origin" }).then(function (response) {
          if (response.ok) return cache.put(url, response);
        });
      });
    });
  }

  function emptyPages(cache) {
    return cache.keys().then(function (requests) {
      return Promise.all(
        requests.map(function (request) {
          return cache.delete(request);
        })
      );
    });
  }

  function refreshNow(options) {
    return caches.open(PAGES).then(function (pages) {
      return readMeta(pages).then(function (meta) {
        var member = options.member || null;
        var sameMember = Boolean(meta) && meta.member === member;
        if (sameMember && !options.force && Date.now() - meta.at < REFRESH_EVERY_MS) return;
        // Another member, or nobody: what was kept is not theirs to see.
        var start = sameMember ? Promise.resolve() : emptyPages(pages);
        if (!member) return start;
        return start
          .then(function () {
            return fetch(CONFIG.offlinePages, { credentials: "same-origin", cache: "no-store" });
          })
          .then(function (response) {
            return response.json();
          })
          .then(function (list) {
            if (list.member === null || String(list.member) !== String(member)) return emptyPages(pages);
            var assets = {};
            return Promise.all(
              list.pages.map(function (path) {
                return keepPage(pages, path, assets);
              })
            )
              .then(function () {
                return Promise.all(Object.keys(assets).map(keepAsset));
              })
              .then(function () {
                return forgetOthers(pages, list.pages.concat(Object.keys(assets)));
              })
              .then(function () {
                var note = JSON.stringify({ member: member, at: Date.now(), pages: list.pages });
                return pages.put(META, new Response(note, { headers: { "Content-Type": "application/json" } }));
              });
          });
      });
    });
  }

  // One refresh at a time, in the order asked: a page of one member and then of
  // another (or of nobody) must leave the second one's pages, never a mix.
  var refreshes = Promise.resolve();

  // When the latest refresh was asked for: a message overtaken by a newer one (the page
  // that sent it is gone) is not acted on.
  var latest = 0;

  function refresh(options) {
    if (options.at) {
      if (options.at < latest) return refreshes;
      latest = options.at;
    }
    refreshes = refreshes.then(function () {
      return refreshNow(options).catch(function () {
        /* No network: what is kept stays until the next try. */
      });
    });
    return refreshes;
  }

  function forgetOthers(cache, keep) {
    var wanted = {};
    keep.forEach(function (path) {
      wanted[new URL(path, self.location.origin).href] = true;
    });
    wanted[META] = true;
    return cache.keys().then(function (requests) {
      return Promise.all(
        requests
          .filter(function (request) {
            return !wanted[request.url];
          })
          .map(function (request) {
            return cache.delete(request);
          })
      );
    });
  }

  function refreshOne(path) {
    return caches.open(PAGES).then(function (cache) {
      return cache.match(path, { ignoreVary: true }).then(function (kept) {
        if (kept) return keepPage(cache, path, {});
      });
    });
  }

  function forgetEverything() {
    return caches.keys().then(function (names) {
      return Promise.all(
        names
          .filter(function (name) {
            return name.indexOf(PREFIX) === 0;
          })
          .map(function (name) {
            return caches.delete(name);
          })
      );
    });
  }

  self.addEventListener("message", function (event) {
    var message = event.data || {};
    if (message.type === "refresh") {
      event.waitUntil(refresh({ member: message.member, force: Boolean(message.force), at: message.at }));
    } else if (message.type === "refresh-page" && message.path) {
      event.waitUntil(refreshOne(message.path));
    } else if (message.type === "forget") {
      event.waitUntil(forgetEverything());
    }
  });

  /* ---- Push ---- */

  self.addEventListener("push", function (event) {
    var data = {};
    try {
      data = event.data ? event.data.json() : {};
    } catch (error) {
      data = { body: event.data ? event.data.text() : "" };
    }
    var options = {
      body: data.body || "",
      tag: data.tag || undefined,
      renotify: Boolean(data.tag),
      icon: CONFIG.icon,
      badge: CONFIG.icon,
      data: { url: data.url || CONFIG.startUrl, done_url: data.done_url || "" },
      actions: data.done_url ? [{ action: "done", title: data.done_title || "Done" }] : [],
    };
    event.waitUntil(self.registration.showNotification(data.title || "StretchHub", options));
  });

  self.addEventListener("notificationclick", function (event) {
    var data = event.notification.data || {};
    event.notification.close();
    // "Done" opens the signed confirmation page, where the member confirms the tick.
    var target = event.action === "done" && data.done_url ? data.done_url : data.url || CONFIG.startUrl;
    event.waitUntil(
      self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
        for (var i = 0; i < windows.length; i++) {
          if (windows[i].url === target && "focus" in windows[i]) return windows[i].focus();
        }
        return self.clients.openWindow(target);
      })
    );
  });
})();
