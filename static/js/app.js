// Shared behaviour for every page. No inline scripts: the CSP forbids them.
(function () {
  "use strict";
  // htmx requests carry the CSRF token like forms do.
  document.addEventListener("htmx:configRequest", function (event) {
    var token = document.body.dataset.csrfToken;
    if (token) { event.detail.headers["X-CSRFToken"] = token; }
  });
  // <form data-confirm="Are you sure?"> asks before submitting.
  document.addEventListener("submit", function (event) {
    var message = event.target.dataset && event.target.dataset.confirm;
    if (message && !window.confirm(message)) { event.preventDefault(); }
  }, true);
  // <button data-copy-target="#id"> copies that element's text to the clipboard.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) { return; }
    var source = document.querySelector(button.dataset.copyTarget);
    if (source && navigator.clipboard) { navigator.clipboard.writeText(source.textContent.trim()); }
  });
})();
