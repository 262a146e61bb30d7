// Homework pages: each question is sent on its own, and the page comes back from the server after
// it. What was typed into a box and not yet stored is kept in this browser, for this user only,
// and put back (marked as a draft). Stored as {"t": when, "v": text}: site.js drops old ones.
// The page works without this script.
(function () {
  "use strict";
  var store;
  try { store = window.localStorage; } catch (e) { return; }
  var forms = document.querySelectorAll("form[data-drafts]");
  if (!store || !forms.length) return;
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
  });
  function watch(box, key) {
    box.addEventListener("input", function () {
      try { store.setItem(key, JSON.stringify({t: Date.now(), v: box.value})); } catch (e) { /* full: none */ }
    });
  }
})();
