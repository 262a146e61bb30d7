// Every page: after a submit, focus goes to the result (data-focus), so a screen reader reads it
// (it fell back to the top of the page, and the result was not announced).
(function () {
  "use strict";
  var result = document.querySelector("[data-focus]");
  if (result) result.focus({preventScroll: false});
})();

// Every page: drafts (homework, practice) are one user's, and short-lived. Logging out forgets
// them; a page of another user (the next student on a shared computer, even after a session that
// simply ended) drops them; any page drops those older than a day.
(function () {
  "use strict";
  var store;
  try { store = window.localStorage; } catch (e) { return; }
  if (!store) return;
  var DAY = 24 * 3600 * 1000;
  function drop(keep) {
    for (var i = store.length - 1; i >= 0; i--) {
      var k = store.key(i);
      if (!k || k.indexOf("dlg-draft:") !== 0) continue;
      var old = true;
      try { old = Date.now() - JSON.parse(store.getItem(k)).t > DAY; } catch (e) { /* unreadable: old */ }
      if (keep === null || k.indexOf(keep) !== 0 || old) store.removeItem(k);
    }
  }
  var user = document.body.dataset.user;
  drop(user ? "dlg-draft:" + user + ":" : "dlg-draft:");  // logged in: only this user's stay
  document.querySelectorAll("form[action='/logout']").forEach(function (form) {
    form.addEventListener("submit", function () { drop(null); });
  });
})();
