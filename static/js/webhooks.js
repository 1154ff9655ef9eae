// Webhook pages. The one-time secret panel can be removed from the page once copied,
// so it does not stay on screen.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-dismiss-secret]");
    if (!button) { return; }
    var panel = document.querySelector(button.dataset.dismissSecret);
    if (panel) { panel.remove(); }
  });
})();
