// Homework pages: each question is sent on its own, and the page comes back from the server after
// it. What was typed into a box and not yet stored is kept in this browser, for this user only,
// and put back (marked as a draft). The page works without this script.
(function () {
  "use strict";
  var store;
  try { store = window.localStorage; } catch (e) { return; }
  var forms = document.querySelectorAll("form[data-drafts]");
  if (!store || !forms.length) return;
  var mine = "dlg-draft:" + forms[0].dataset.user + ":";
  forms.forEach(function (form) {
    var prefix = mine + form.dataset.drafts + ":" + form.getAttribute("action") + ":";
    form.querySelectorAll("input[name], textarea[name]").forEach(function (box) {
      if (box.type === "hidden") return;
      var key = prefix + box.name;
      var draft = store.getItem(key);
      // Dropped once stored (the box's data-stored), when empty (nothing to keep), and for a part
      // that takes no more answers (an exam's part taken, a closed one): it would only linger.
      if (draft !== null && (draft === box.dataset.stored || !draft.trim() || box.disabled)) {
        store.removeItem(key);
        draft = null;
      }
      if (box.disabled) return;
      if (draft !== null && draft !== box.value) {  // typed after the last send, or refused and left
        box.value = draft;
        var note = document.createElement("span");
        note.className = "draft-note";
        note.textContent = form.dataset.draftNote;
        box.insertAdjacentElement("afterend", note);
      }
      box.addEventListener("input", function () {
        try { store.setItem(key, box.value); } catch (e) { /* full or private: no drafts */ }
      });
    });
  });
})();
