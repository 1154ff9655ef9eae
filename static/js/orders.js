// Purchase-order builder and key custody pages. No inline scripts: the CSP forbids them.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    // Catalog search on the new-order page: pick a result into the order sku field
    // (without script the link opens the new-order page with ?add=<sku>).
    var pick = event.target.closest("[data-pick-sku]");
    if (pick) {
      var field = document.getElementById("id_order_sku");
      if (field) {
        event.preventDefault();
        field.value = pick.dataset.pickSku;
        field.focus();
      }
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

  // Keyboard users keep their place when htmx redraws the part they were in: the lines
  // card (focus goes to its status line, which says what changed) or the "More results"
  // row (focus goes to the first of the new results).
  var refocus = false;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    refocus = Boolean(target && target.contains(document.activeElement));
  });
  document.addEventListener("htmx:afterSettle", function () {
    var first = document.querySelector("[data-focus-here]");
    if (first) {
      first.removeAttribute("data-focus-here");
      if (refocus) {
        var control = first.querySelector("input, button, a");
        if (control) { control.focus(); }
      }
    } else if (refocus) {
      var status = document.getElementById("po-lines-status");
      if (status) { status.focus(); }
    }
    refocus = false;
  });
})();
