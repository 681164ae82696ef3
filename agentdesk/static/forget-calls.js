// On the sign-in page: nothing of a call stays in this browser (notes a desk kept for a reload,
// whatever an earlier version left), however the desk was left (sign-out, expiry, closed tab).
(function () {
  "use strict";
  [window.localStorage, window.sessionStorage].forEach(function (store) {
    for (var i = store.length - 1; i >= 0; i--) {
      var key = store.key(i);
      if (key && key.indexOf("kck-") === 0) { store.removeItem(key); }
    }
  });
})();
