// Every page: logging out forgets this browser's homework drafts (a shared computer).
(function () {
  "use strict";
  document.querySelectorAll("form[action='/logout']").forEach(function (form) {
    form.addEventListener("submit", function () {
      try {
        var store = window.localStorage;
        for (var i = store.length - 1; i >= 0; i--) {
          var k = store.key(i);
          if (k && k.indexOf("dlg-draft:") === 0) store.removeItem(k);
        }
      } catch (e) { /* no storage: nothing kept */ }
    });
  });
})();
