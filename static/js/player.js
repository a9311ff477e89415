/* Guided session player: plain JavaScript, no build step, progressive enhancement.
 *
 * Reads the stretches from the session page ([data-item] elements and their
 * data-* prescription), then walks through: get ready → hold (per set, per
 * side, with a "switch sides" cue) or count reps → rest between sets → next
 * stretch → done. Without JavaScript the page still lists every stretch and
 * the tick-off form works as a normal form.
 *
 * data-speed on #player makes every timer N times faster (tests, development;
 * the server only sets it when settings.PLAYER_SPEED_PARAM is on).
 *
 * The stage shows the current stretch's pictures, copied from its card
 * ([data-picture], each with the side it shows), or its video, muted and
 * inline. On a side a picture does not show, it is mirrored.
 */
(function () {
  "use strict";

  // Strings come from Django's JavaScript catalogue (/jsi18n/, loaded before this file);
  // without it the player still works, in English.
  var gettext = window.gettext || function (text) { return text; };
  var interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\(\w+\)s/g, function (match) { return String(values[match.slice(2, -2)]); });
  };
  var pgettext = window.pgettext || function (context, text) { return text; };
  function t(format, values) {
    return interpolate(format, values, true);
  }

  var GET_READY_SECONDS = 5;
  var SWITCH_SECONDS = 5;
  var TICK_MS = 100;

  var root = document.getElementById("player");
  var launch = document.querySelector("[data-player-launch]");
  if (!root || !launch) return;

  var items = Array.prototype.map.call(document.querySelectorAll("[data-item]"), function (el, index) {
    return {
      el: el,
      index: index,
      name: el.dataset.name,
      dose: el.dataset.dose,
      sets: Math.max(1, parseInt(el.dataset.sets, 10) || 1),
      reps: parseInt(el.dataset.reps, 10) || 0,
      hold: parseInt(el.dataset.hold, 10) || 0,
      perSide: el.dataset.perSide === "1",
      rest: parseInt(el.dataset.rest, 10) || 0,
      steps: Array.prototype.map.call(el.querySelectorAll("[data-steps] li"), function (li) {
        return li.textContent.trim();
      }),
      pictures: Array.prototype.slice.call(el.querySelectorAll("[data-picture]")),
      video: el.querySelector("[data-video]"),
    };
  });
  if (!items.length) return;

  var speed = Math.max(1, parseInt(root.dataset.speed, 10) || 1);
  var $ = function (selector) {
    return root.querySelector(selector);
  };
  var ui = {
    heading: $("#player-heading"),
    progress: $("[data-progress]"),
    where: $("[data-where]"),
    stage: $("[data-stage]"),
    phase: $("[data-phase]"),
    name: $("[data-name]"),
    dose: $("[data-dose]"),
    clock: $("[data-clock]"),
    reps: $("[data-reps]"),
    repCount: $("[data-rep-count]"),
    repTarget: $("[data-rep-target]"),
    toggle: $('[data-action="toggle"]'),
    controls: $(".player__controls"),
    finish: $("[data-finish]"),
    how: $("[data-how]"),
    howSteps: $("[data-how-steps]"),
    live: $("[data-live]"),
    paused: $("[data-paused]"),
    media: $("[data-media]"),
  };
  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  /* ---- The plan: a flat list of steps ---- */
  var plan = [];
  items.forEach(function (item, i) {
    plan.push({ kind: "ready", item: item, seconds: GET_READY_SECONDS, first: i === 0 });
    var sides = item.perSide ? ["left", "right"] : [null];
    for (var set = 1; set <= item.sets; set++) {
      sides.forEach(function (side, s) {
        if (s > 0) plan.push({ kind: "switch", item: item, set: set, side: side, seconds: SWITCH_SECONDS });
        plan.push({
          kind: item.reps ? "reps" : "hold",
          item: item,
          set: set,
          side: side,
          seconds: item.reps ? 0 : item.hold,
          reps: item.reps,
          work: true,
        });
      });
      if (set < item.sets && item.rest) plan.push({ kind: "rest", item: item, set: set, seconds: item.rest });
    }
  });
  plan.push({ kind: "done" });
  var workTotal = plan.filter(function (s) {
    return s.work;
  }).length;

  /* ---- State ---- */
  var index = 0;
  var remainingMs = 0;
  var paused = false;
  var repCount = 0;
  var timer = null;
  var lastTick = 0;
  var wakeLock = null;
  var audio = null;
  var shownMedia = "";

  /* ---- Helpers ---- */
  function formatClock(ms) {
    var total = Math.max(0, Math.ceil(ms / 1000));
    var m = Math.floor(total / 60);
    var s = total % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }

  function sideText(side) {
    return side === "left" ? gettext("left side") : side === "right" ? gettext("right side") : "";
  }

  function setText(step) {
    return step.item.sets > 1 ? t(gettext("set %(set)s of %(sets)s"), { set: step.set, sets: step.item.sets }) : "";
  }

  function joined(parts) {
    return parts.filter(Boolean).join(", ");
  }

  function announce(text) {
    // Clearing first makes screen readers read a repeated message again.
    ui.live.textContent = "";
    window.setTimeout(function () {
      ui.live.textContent = text;
    }, 50);
  }

  function beep(frequency, ms) {
    try {
      if (!audio) return;
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.frequency.value = frequency;
      gain.gain.value = 0.08;
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + ms / 1000);
    } catch (e) {
      /* sound is a nicety */
    }
  }

  function cue(kind) {
    var tones = { hold: 880, reps: 880, switch: 660, rest: 440, ready: 520, done: 990 };
    beep(tones[kind] || 600, 180);
    if (navigator.vibrate) navigator.vibrate(kind === "done" ? [120, 80, 120] : 120);
  }

  function describe(step) {
    var item = step.item;
    switch (step.kind) {
      case "ready":
        return t(step.first ? gettext("Get ready. %(name)s, %(dose)s. Starting in %(seconds)s seconds.") : gettext("Next stretch. %(name)s, %(dose)s. Starting in %(seconds)s seconds."), {
          name: item.name,
          dose: item.dose,
          seconds: step.seconds,
        });
      case "hold":
        return t(gettext("%(what)s: hold for %(seconds)s seconds."), {
          what: joined([item.name, setText(step), sideText(step.side)]),
          seconds: step.seconds,
        });
      case "reps":
        return t(gettext("%(what)s: %(reps)s repetitions. Press Count a rep after each one."), {
          what: joined([item.name, setText(step), sideText(step.side)]),
          reps: step.reps,
        });
      case "switch":
        return t(gettext("Switch sides. %(name)s, %(side)s next."), { name: item.name, side: sideText(step.side) });
      case "rest":
        return t(gettext("Rest for %(seconds)s seconds."), { seconds: step.seconds });
      default:
        return gettext("Session complete. Well done! Tick it off below.");
    }
  }

  function phaseLabel(step) {
    switch (step.kind) {
      case "ready":
        return step.first ? gettext("Get ready") : gettext("Next stretch");
      case "hold":
        return step.side ? t(gettext("Hold — %(side)s"), { side: sideText(step.side) }) : gettext("Hold");
      case "reps":
        return step.side ? t(gettext("Repetitions — %(side)s"), { side: sideText(step.side) }) : gettext("Repetitions");
      case "switch":
        return gettext("Switch sides");
      case "rest":
        return pgettext("player phase", "Rest");
      default:
        return gettext("Session complete");
    }
  }

  function workDoneBefore(i) {
    var n = 0;
    for (var k = 0; k < i; k++) if (plan[k].work) n++;
    return n;
  }

  /* ---- Pictures and video ---- */
  function mediaFor(item, side) {
    if (item.video) {
      var video = item.video.cloneNode(true);
      if (video.tagName === "IFRAME") {
        video.src = video.dataset.playerSrc;
        video.removeAttribute("loading");
      } else {
        video.muted = true;
        video.loop = true;
        video.playsInline = true;
        video.preload = "auto";
      }
      video.removeAttribute("data-video");
      return [video];
    }
    return item.pictures.map(function (figure) {
      var copy = figure.cloneNode(true);
      var mirrored = Boolean(side && figure.dataset.side && figure.dataset.side !== side);
      copy.classList.toggle("is-mirrored", mirrored);
      copy.dataset.mirrored = mirrored ? "true" : "false";
      copy.removeAttribute("data-picture");
      var img = copy.querySelector("img");
      img.loading = "eager";
      if (img.hasAttribute("sizes")) img.sizes = "(min-width: 40rem) 32rem, 100vw";
      return copy;
    });
  }

  function renderMedia(step) {
    var item = step.item;
    var key = item ? item.index + ":" + (step.side || "") : "";
    if (key === shownMedia) return;
    shownMedia = key;
    ui.media.textContent = "";
    var nodes = item ? mediaFor(item, step.side) : [];
    nodes.forEach(function (node) {
      ui.media.appendChild(node);
    });
    ui.media.hidden = !nodes.length;
    playVideo();
  }

  // The video plays while the player runs (unless the member asked for reduced motion) and waits while paused.
  function playVideo() {
    var video = ui.media.querySelector("video");
    if (!video) return;
    if (paused || reduceMotion) {
      video.pause();
      return;
    }
    var playing = video.play();
    if (playing && playing.catch) playing.catch(function () {});
  }

  /* ---- Rendering ---- */
  function renderClock() {
    var step = plan[index];
    if (step.kind === "reps" || step.kind === "done") return;
    ui.clock.textContent = formatClock(remainingMs);
  }

  function render() {
    var step = plan[index];
    var done = step.kind === "done";
    var item = step.item;
    root.dataset.phase = step.kind;

    var finished = workDoneBefore(index);
    ui.progress.max = workTotal;
    ui.progress.value = finished;
    ui.progress.setAttribute("aria-valuetext", t(gettext("%(done)s of %(total)s steps done"), { done: finished, total: workTotal }));

    ui.phase.textContent = phaseLabel(step);
    renderMedia(step);
    if (done) {
      ui.where.textContent = t(gettext("All %(count)s stretches done"), { count: items.length });
      ui.name.textContent = gettext("Well done!");
      ui.dose.textContent = gettext("Record it with the tick-off form below: a pain score helps you see your trend.");
      ui.clock.textContent = "✓";
    } else {
      ui.where.textContent = joined([
        t(gettext("Stretch %(number)s of %(count)s"), { number: item.index + 1, count: items.length }),
        step.kind === "ready" ? "" : setText(step),
      ]);
      ui.name.textContent = item.name;
      ui.dose.textContent = item.dose;
    }

    var counting = step.kind === "reps";
    ui.reps.hidden = !counting;
    ui.clock.hidden = counting;
    if (counting) {
      ui.repCount.textContent = String(repCount);
      ui.repTarget.textContent = String(step.reps);
    } else if (!done) {
      renderClock();
    }

    ui.controls.hidden = done;
    ui.finish.hidden = !done;
    ui.how.hidden = done;
    if (!done) {
      ui.howSteps.innerHTML = "";
      item.steps.forEach(function (text) {
        var li = document.createElement("li");
        li.textContent = text;
        ui.howSteps.appendChild(li);
      });
    }

    items.forEach(function (it) {
      it.el.classList.toggle("is-current", !done && it === item);
    });
    renderToggle();
  }

  function renderToggle() {
    ui.toggle.textContent = paused ? gettext("Resume") : gettext("Pause");
    ui.toggle.setAttribute("aria-pressed", paused ? "true" : "false");
    root.classList.toggle("is-paused", paused);
    ui.paused.hidden = !paused;
  }

  /* ---- Moving through the plan ---- */
  function enter(i, options) {
    index = Math.max(0, Math.min(plan.length - 1, i));
    var step = plan[index];
    repCount = 0;
    remainingMs = (step.seconds || 0) * 1000;
    render();
    announce(describe(step));
    if (!options || !options.silent) cue(step.kind);
    if (step.kind === "done") {
      stopTimer();
      releaseWakeLock();
      ui.finish.querySelector("a, button").focus();
    }
  }

  function onTick() {
    var now = performance.now();
    var elapsed = (now - lastTick) * speed;
    lastTick = now;
    var step = plan[index];
    if (paused || step.kind === "reps" || step.kind === "done") return;
    remainingMs -= elapsed;
    if (remainingMs <= 0) {
      enter(index + 1);
    } else {
      renderClock();
    }
  }

  function startTimer() {
    stopTimer();
    lastTick = performance.now();
    timer = window.setInterval(onTick, TICK_MS);
  }

  function stopTimer() {
    if (timer) window.clearInterval(timer);
    timer = null;
  }

  function togglePause() {
    if (plan[index].kind === "done") return;
    paused = !paused;
    lastTick = performance.now();
    renderToggle();
    playVideo();
    announce(paused ? gettext("Paused.") : t(gettext("Resumed. %(phase)s."), { phase: phaseLabel(plan[index]) }));
  }

  function skip() {
    if (plan[index].kind === "done") return;
    enter(index + 1);
  }

  function back() {
    // Back goes to the previous step that is not a rest or a side switch, or
    // restarts the current one when it is the first.
    var i = index - 1;
    while (i > 0 && (plan[i].kind === "rest" || plan[i].kind === "switch")) i--;
    enter(Math.max(0, i));
  }

  function countRep() {
    var step = plan[index];
    if (step.kind !== "reps" || paused) return;
    repCount += 1;
    ui.repCount.textContent = String(repCount);
    if (repCount >= step.reps) {
      enter(index + 1);
    } else {
      beep(700, 60);
      announce(String(repCount));
    }
  }

  /* ---- Opening and closing ---- */
  function requestWakeLock() {
    if (!("wakeLock" in navigator)) return;
    navigator.wakeLock.request("screen").then(
      function (lock) {
        wakeLock = lock;
      },
      function () {}
    );
  }

  function releaseWakeLock() {
    if (wakeLock) wakeLock.release().catch(function () {});
    wakeLock = null;
  }

  function open() {
    try {
      var Context = window.AudioContext || window.webkitAudioContext;
      if (Context && !audio) audio = new Context();
    } catch (e) {
      audio = null;
    }
    root.hidden = false;
    launch.hidden = true;
    paused = false;
    enter(0);
    startTimer();
    requestWakeLock();
    root.scrollIntoView({ block: "start" });
    ui.heading.focus({ preventScroll: true });
  }

  function close() {
    stopTimer();
    releaseWakeLock();
    ui.media.textContent = "";
    shownMedia = "";
    root.hidden = true;
    launch.hidden = false;
    items.forEach(function (it) {
      it.el.classList.remove("is-current");
    });
    launch.querySelector("button").focus();
  }

  function goToTick(event) {
    var box = document.getElementById("tick-box");
    if (!box) return;
    event.preventDefault();
    box.scrollIntoView({ block: "start" });
    var first = box.querySelector("input, textarea, button, a");
    (first || box).focus({ preventScroll: true });
  }

  /* ---- Wiring ---- */
  var actions = {
    open: open,
    close: close,
    toggle: togglePause,
    skip: skip,
    back: back,
    rep: countRep,
    restart: function () {
      paused = false;
      enter(0);
      startTimer();
      requestWakeLock();
      ui.heading.focus();
    },
    "to-tick": goToTick,
  };

  function onClick(event) {
    var target = event.target.closest("[data-action]");
    if (!target || !actions[target.dataset.action]) return;
    actions[target.dataset.action](event);
  }

  root.addEventListener("click", onClick);
  launch.addEventListener("click", onClick);

  document.addEventListener("keydown", function (event) {
    if (root.hidden || event.altKey || event.ctrlKey || event.metaKey) return;
    var target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    var onControl = target.closest && target.closest("button, a, summary");
    switch (event.key) {
      case " ":
      case "Spacebar":
      case "k":
        if (onControl) return; // Space presses the focused button, as everywhere else.
        togglePause();
        break;
      case "ArrowRight":
      case "n":
        skip();
        break;
      case "ArrowLeft":
      case "b":
        back();
        break;
      case "Enter":
      case "+":
        if (onControl) return;
        countRep();
        break;
      case "Escape":
        close();
        break;
      default:
        return;
    }
    event.preventDefault();
  });

  document.addEventListener("visibilitychange", function () {
    // The screen lock is dropped when the tab is hidden; ask again on return.
    if (document.visibilityState === "visible" && !root.hidden && timer) requestWakeLock();
  });

  launch.hidden = false;
})();
