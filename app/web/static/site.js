// Every page: homework drafts are one user's. Logging out forgets them; a page of another user
// (the next student on a shared computer, even after a session that simply ended) drops them.
(function () {
  "use strict";
  var store;
  try { store = window.localStorage; } catch (e) { return; }
  if (!store) return;
  function drop(keep) {
    for (var i = store.length - 1; i >= 0; i--) {
      var k = store.key(i);
      if (k && k.indexOf("dlg-draft:") === 0 && (keep === null || k.indexOf(keep) !== 0)) store.removeItem(k);
    }
  }
  var user = document.body.dataset.user;
  if (user) drop("dlg-draft:" + user + ":");  // logged in: only this user's stay
  document.querySelectorAll("form[action='/logout']").forEach(function (form) {
    form.addEventListener("submit", function () { drop(null); });
  });
})();
