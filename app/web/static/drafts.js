// Homework pages: each question is sent on its own, and the page comes back from the server after
// it. What was typed into a box and not yet stored is kept in this browser, for this user only,
// and put back (marked as a draft). The page works without this script.
(function () {
  "use strict";
  var store;
  try { store = window.localStorage; } catch (e) { return; }
  var forms = document.querySelectorAll("form[data-drafts]");
  if (!store || !forms.length) return;
  var user = forms[0].dataset.user;
  var mine = "dlg-draft:" + user + ":";
  // Another user's drafts never show here (a shared computer): they are dropped.
  for (var i = store.length - 1; i >= 0; i--) {
    var k = store.key(i);
    if (k && k.indexOf("dlg-draft:") === 0 && k.indexOf(mine) !== 0) store.removeItem(k);
  }
  forms.forEach(function (form) {
    var prefix = mine + form.dataset.drafts + ":" + form.getAttribute("action") + ":";
    form.querySelectorAll("input[name], textarea[name]").forEach(function (box) {
      if (box.disabled || box.type === "hidden") return;
      var key = prefix + box.name;
      var draft = store.getItem(key);
      if (draft !== null && draft === box.value) {
        store.removeItem(key);  // the server shows it: stored, or shown back after a refusal
      } else if (draft !== null) {
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
