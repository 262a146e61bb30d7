// Homework pages: each question is sent on its own, and the page comes back from the server after
// it. What was typed into the other questions' boxes is kept in this browser until it is sent, and
// put back. The page works without this script.
(function () {
  "use strict";
  if (!window.localStorage) return;
  document.querySelectorAll("form[data-drafts]").forEach(function (form) {
    var prefix = "dlg-draft:" + form.dataset.drafts + ":" + form.action + ":";
    form.querySelectorAll("input[name], textarea[name]").forEach(function (box) {
      if (box.disabled || box.type === "hidden") return;
      var key = prefix + box.name;
      var draft = localStorage.getItem(key);
      if (draft !== null && draft !== box.value) box.value = draft;  // typed after the last send
      box.addEventListener("input", function () {
        try { localStorage.setItem(key, box.value); } catch (e) { /* full or private: no drafts */ }
      });
    });
    form.addEventListener("submit", function () {
      // Sent: the page that comes back shows what the server has. (Refused, it shows what was typed.)
      form.querySelectorAll("input[name], textarea[name]").forEach(function (box) {
        localStorage.removeItem(prefix + box.name);
      });
    });
  });
})();
