// The time left on a timed exam, counted down on the page (it stated only the end time). The
// server's clock decides: the page carries the server's "now", so a phone whose clock is off
// still counts the right minutes.
"use strict";
(function () {
  const box = document.querySelector("[data-countdown]");
  if (!box) return;
  const end = Date.parse(box.dataset.countdown);
  const skew = Date.parse(box.dataset.now) - Date.now();
  const out = box.querySelector("output");
  const pad = (n) => String(n).padStart(2, "0");
  function tick() {
    const left = Math.max(0, Math.floor((end - (Date.now() + skew)) / 1000));
    const h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    out.textContent = (h ? h + ":" + pad(m) : m) + ":" + pad(s);
    box.classList.toggle("soon", left <= 300);
    if (left === 0) {
      box.textContent = box.dataset.over;  // "time is up", not "time left: time is up"
      clearInterval(timer);
    }
  }
  box.hidden = false;
  const timer = setInterval(tick, 1000);
  tick();
})();
