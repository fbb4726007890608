// The appointment page while a payment is pending: ask the server every few seconds whether
// the provider's confirmation has arrived, then show the page again. Without scripts the
// page's "Reload" link does the same. (A file of its own: the CSP forbids inline scripts.)
(function () {
  "use strict";
  var box = document.getElementById("payment-status");
  if (!box || !window.fetch) return;
  var url = box.getAttribute("data-status-url");
  var tries = 0;
  var MAX_TRIES = 60; // about three minutes; then the Reload link is still there
  function ask() {
    tries += 1;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (answer && answer.settled) {
          window.location.replace(window.location.pathname);
        } else if (tries < MAX_TRIES) {
          window.setTimeout(ask, 3000);
        }
      })
      .catch(function () {
        if (tries < MAX_TRIES) window.setTimeout(ask, 3000);
      });
  }
  window.setTimeout(ask, 2000);
})();
