// Purchase-order builder and key custody pages. No inline scripts: the CSP forbids them.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    // Catalog search on the new-order page: pick a result into the order sku field.
    var pick = event.target.closest("[data-pick-sku]");
    if (pick) {
      var field = document.getElementById("id_order_sku");
      if (field) { field.value = pick.dataset.pickSku; field.focus(); }
      return;
    }
    // Copying a revealed key is audited (app.js does the copying itself).
    var copy = event.target.closest("[data-copy-audit]");
    if (copy) {
      fetch(copy.dataset.copyAudit, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": document.body.dataset.csrfToken || "" }
      }).then(function (response) {
        if (response.ok) { copy.textContent = "Copied"; }
      });
    }
  });
})();
