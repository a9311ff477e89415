// Suggests the browser's IANA time zone for a time zone <select>.
//   data-suggest-browser-timezone="replace": a fresh sign-up form; pick the browser's zone.
//   data-suggest-browser-timezone="offer":   settings; show [data-timezone-suggestion] with a "Use it" button.
// The server validates whatever is sent; without JavaScript the select simply keeps its value.
(function () {
  "use strict";

  function browserTimeZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (error) {
      return "";
    }
  }

  function ensureOption(select, zone) {
    for (var i = 0; i < select.options.length; i += 1) {
      if (select.options[i].value === zone) {
        return;
      }
    }
    // A zone missing from the list (an older alias such as Asia/Calcutta): add it so it can be chosen.
    var option = document.createElement("option");
    option.value = zone;
    option.textContent = zone;
    select.appendChild(option);
  }

  function choose(select, zone) {
    ensureOption(select, zone);
    select.value = zone;
    select.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function init() {
    var zone = browserTimeZone();
    if (!zone) {
      return;
    }
    var selects = document.querySelectorAll("select[data-suggest-browser-timezone]");
    Array.prototype.forEach.call(selects, function (select) {
      var mode = select.getAttribute("data-suggest-browser-timezone");
      if (mode === "replace") {
        choose(select, zone);
        return;
      }
      var suggestion = select.form && select.form.querySelector("[data-timezone-suggestion]");
      if (!suggestion || select.value === zone) {
        return;
      }
      suggestion.querySelector("[data-timezone-name]").textContent = zone;
      suggestion.hidden = false;
      suggestion.querySelector("[data-timezone-use]").addEventListener("click", function () {
        choose(select, zone);
        suggestion.hidden = true;
        select.focus();
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
