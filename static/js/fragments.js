/* Forms marked data-fragment-form post with fetch and swap the server's HTML
 * fragment into the page (tick off, undo) — no full page reload. Without
 * JavaScript, or when fetch fails, they are ordinary POST + redirect forms.
 * When no answer comes at all (no network), a "fragment:offline" event on the
 * form lets another script keep it for later (pwa.js queues ticks); after a
 * swap, "fragment:replaced" on the document says the page changed.
 */
(function () {
  "use strict";
  if (!window.fetch || !window.FormData) return;

  function announce(text) {
    var live = document.querySelector("[data-tick-live]");
    if (!live || !text) return;
    live.textContent = "";
    window.setTimeout(function () {
      live.textContent = text;
    }, 50);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-fragment-form]")) return;
    var box = form.closest("[data-fragment]");
    if (!box) return;
    event.preventDefault();
    var buttons = form.querySelectorAll("button[type=submit]");
    buttons.forEach(function (b) {
      b.disabled = true;
    });
    box.setAttribute("aria-busy", "true");

    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Fragment": "1" },
    })
      .catch(function (error) {
        error.noAnswer = true;
        throw error;
      })
      .then(function (response) {
        // 400 carries the form with its errors; anything else unexpected falls
        // back to the ordinary form post so the member still gets a page.
        if (!response.ok && response.status !== 400) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var template = document.createElement("template");
        template.innerHTML = html.trim();
        var fresh = template.content.firstElementChild;
        if (!fresh) throw new Error("empty fragment");
        box.replaceWith(fresh);
        var invalid = fresh.querySelector(".errorlist");
        var gettext = window.gettext || function (text) { return text; };
        announce(invalid ? gettext("Please correct the errors:") + " " + invalid.textContent.trim() : fresh.dataset.announce);
        var focusTarget = invalid ? fresh.querySelector("[aria-invalid=true]") || fresh : fresh;
        focusTarget.focus();
        document.dispatchEvent(new CustomEvent("fragment:replaced"));
      })
      .catch(function (error) {
        var kept =
          error.noAnswer && !form.dispatchEvent(new CustomEvent("fragment:offline", { bubbles: true, cancelable: true }));
        if (!kept) {
          HTMLFormElement.prototype.submit.call(form);
          return;
        }
        buttons.forEach(function (b) {
          b.disabled = false;
        });
        box.removeAttribute("aria-busy");
      });
  });
})();
