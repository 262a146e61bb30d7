// Homework and practice pages (a form with data-drafts): each question is sent on its own, and the
// page comes back from the server after it. What was typed into a box and not yet stored is kept in
// this browser, for this user only, and put back (marked as a draft): a submit that never reached
// the server (offline, the server down) and Back lost it. A draft is keyed by the form's action
// (a homework question, a practice instance) and the box. Stored as {"t": when, "v": text}: site.js
// drops old ones. The page works without this script.
(function () {
  "use strict";
  var forms = document.querySelectorAll("form[data-drafts]");
  if (!forms.length) return;
  // A visitor's drafts (no account) stay in this tab only: on a shared computer the next visitor
  // was offered them ("a draft on other numbers"). A student's stay in the browser (site.js drops
  // them at logout or for another user).
  var store;
  try { store = forms[0].dataset.user ? window.localStorage : window.sessionStorage; } catch (e) { return; }
  if (!store) return;
  var mine = "dlg-draft:" + forms[0].dataset.user + ":";
  function read(key) {
    try { var d = JSON.parse(store.getItem(key)); return d && typeof d.v === "string" ? d.v : null; }
    catch (e) { return null; }
  }
  function note(box, text) {
    var span = document.createElement("span");
    span.className = "draft-note";
    span.textContent = text;
    box.insertAdjacentElement("afterend", span);
  }
  forms.forEach(function (form) {
    var prefix = mine + form.dataset.drafts + ":" + form.getAttribute("action") + ":";
    var closed = form.dataset.closed === "true";
    form.querySelectorAll("input[name], textarea[name]").forEach(function (box) {
      if (box.type === "hidden") return;
      var key = prefix + box.name;
      var draft = read(key);
      // Dropped once stored (the box's data-stored, or data-late: kept as a late answer), when
      // empty, and for an exam's part taken.
      if (draft !== null && (draft === box.dataset.stored || draft === box.dataset.late || !draft.trim() || (box.disabled && !closed))) {
        store.removeItem(key);
        draft = null;
      }
      if (draft === null) {
        if (!box.disabled) watch(box, key);
        return;
      }
      if (box.disabled) {  // closed: the unsent text is shown to copy, not sent (until site.js drops it)
        note(box, form.dataset.draftNote + " " + draft);
        return;
      }
      if (draft !== box.value) {  // typed after the last send, or refused and left
        box.value = draft;
        note(box, form.dataset.draftNote);
      }
      watch(box, key);
    });
    elsewhere(form);
  });
  // data-drafts-elsewhere: a note linking to this form's drafts on the same address with another
  // query (a practice question's other instances). Back after a submit that never reached the
  // server skips the page (Chrome drops it from the history), and the question's own link poses
  // new numbers: the draft was kept, but nothing led back to it.
  function elsewhere(form) {
    var text = form.dataset.draftsElsewhere, action = form.getAttribute("action");
    if (!text || action.indexOf("?") < 0) return;
    var base = mine + form.dataset.drafts + ":" + action.split("?")[0] + "?";
    var start = mine.length + form.dataset.drafts.length + 1;
    var found = [];
    for (var i = 0; i < store.length; i++) {
      var k = store.key(i);
      if (!k || k.indexOf(base) !== 0) continue;
      var other = k.slice(start, k.indexOf(":", base.length));  // the key: prefix, action, ":", box
      var draft = read(k);
      if (other !== action && draft && draft.trim() && found.indexOf(other) < 0) found.push(other);
    }
    if (!found.length) return;
    var p = document.createElement("p");
    p.className = "note draft-elsewhere";
    p.appendChild(document.createTextNode(text));  // its own spacing: "：" needs none
    found.sort().forEach(function (href, n) {
      var a = document.createElement("a");
      a.href = href;
      a.textContent = form.dataset.draftsOpen + (found.length > 1 ? " " + (n + 1) : "");
      if (n) p.appendChild(document.createTextNode(" · "));
      p.appendChild(a);
    });
    form.insertAdjacentElement("beforebegin", p);
  }
  function watch(box, key) {
    box.addEventListener("input", function () {
      try { store.setItem(key, JSON.stringify({t: Date.now(), v: box.value})); } catch (e) { /* full: none */ }
    });
  }
})();
