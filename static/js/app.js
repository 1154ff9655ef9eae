// Shared behaviour for every page. No inline scripts: the CSP forbids them.
(function () {
  "use strict";
  // The display language of the pages (backoffice/display.py), for charts: money with
  // two decimals, thousands separators and the currency ("1,234.50 EUR"), and times as
  // the pages write them ("2026-12-01 14:06"). Times reach the charts as local wall
  // times of the configured zone without an offset; they are read as if UTC (plain
  // arithmetic, no zone of the viewer's own) and written back the same way, so a chart
  // shows the time the pages show wherever the browser is.
  var twoPlaces = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  window.Display = {
    money: function (value, currency) {
      if (value === null || value === undefined || value === "" || isNaN(Number(value))) { return "—"; }
      var text = twoPlaces.format(Number(value));
      return currency ? text + " " + currency : text;
    },
    wallTime: function (text) { return Date.parse(text + "Z"); },
    dateTime: function (ms) { return new Date(ms).toISOString().slice(0, 16).replace("T", " "); },
    date: function (ms) { return new Date(ms).toISOString().slice(0, 10); }
  };
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

  // Bulk actions: <input type="checkbox" data-select-all="form-id"> in a table header
  // checks or clears every row checkbox of that form (<input form="form-id">) on the page.
  document.addEventListener("change", function (event) {
    var all = event.target.closest && event.target.closest("[data-select-all]");
    if (!all) { return; }
    var boxes = document.querySelectorAll('input[type="checkbox"][form="' + all.dataset.selectAll + '"]');
    for (var i = 0; i < boxes.length; i++) { boxes[i].checked = all.checked; }
  });
  // A live part redrawn while rows are selected keeps them selected.
  var selected = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-live")) { return; }
    selected = [];
    var boxes = elt.querySelectorAll('input[type="checkbox"][form]:checked');
    for (var i = 0; i < boxes.length; i++) {
      selected.push([boxes[i].getAttribute("form"), boxes[i].name, boxes[i].value]);
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!selected) { return; }
    selected.forEach(function (box) {
      var found = document.querySelectorAll('input[type="checkbox"][form="' + CSS.escape(box[0]) + '"][name="' + CSS.escape(box[1]) + '"]');
      for (var i = 0; i < found.length; i++) {
        if (found[i].value === box[2]) { found[i].checked = true; }
      }
    });
    selected = null;
  });

  // Live parts of a page (<div data-live hx-get=... hx-trigger="every Ns, live-refresh from:body">)
  // follow background work. The server leaves out hx-trigger once nothing is in flight,
  // so polling stops by itself; here it also pauses while the tab is hidden, with one
  // refresh as soon as the tab is shown again.
  function isLive(elt) { return elt && elt.hasAttribute && elt.hasAttribute("data-live"); }
  // A part whose newest version has no trigger (or that was swapped out) never asks
  // again, whatever timer htmx may still hold for the element it replaced.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (!isLive(elt)) { return; }
    if (document.hidden || !elt.isConnected || !elt.hasAttribute("hx-trigger")) {
      event.preventDefault();
    }
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && document.querySelector("[data-live][hx-trigger]")) {
      document.body.dispatchEvent(new Event("live-refresh"));
    }
  });
  // A session that expired while the page was open answers with the login page: reload
  // (which lands on the login) instead of drawing it inside the live part.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.elt;
    var xhr = event.detail.xhr;
    if (!isLive(elt) || !xhr || !xhr.responseURL) { return; }
    if (new URL(xhr.responseURL).pathname !== new URL(elt.getAttribute("hx-get"), window.location.href).pathname) {
      event.detail.shouldSwap = false;
      window.location.reload();
    }
  });
})();
