// Home dashboard: the two 30-day charts, and the live part's polling rules.
// Data comes from a json_script block (no inline script: the CSP forbids it). Amounts
// arrive as strings with two decimals; Chart.js only needs numbers to place the points.
(function () {
  "use strict";
  // Amounts are written by window.Display (app.js): "1,234.50 EUR".
  function chartOptions(currency) {
    var money = function (value) { return window.Display.money(value, currency); };
    return {
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            label: function (ctx) { return money(ctx.parsed.y); }
          }
        }
      },
      scales: {
        x: { ticks: { maxTicksLimit: 8 } },
        y: { ticks: { callback: function (value) { return money(value); } } }
      }
    };
  }

  function draw() {
    var source = document.getElementById("dashboard-chart-data");
    if (!source || typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var toNumber = function (v) { return v === null ? null : Number(v); };
    var spend = document.getElementById("dashboard-spend-chart");
    if (spend) {
      new window.Chart(spend, {
        type: "bar",
        data: { labels: data.labels, datasets: [{ label: "Spend", data: data.spend.map(toNumber) }] },
        options: chartOptions(spend.dataset.currency || "")
      });
    }
    var balance = document.getElementById("dashboard-balance-chart");
    if (balance) {
      new window.Chart(balance, {
        type: "line",
        data: {
          labels: data.labels,
          datasets: [{ label: "Balance", data: data.balance.map(toNumber), stepped: true, pointRadius: 0, borderWidth: 2 }]
        },
        options: chartOptions(balance.dataset.currency || "")
      });
    }
  }

  // No polling while the tab is hidden; one refresh as soon as it is shown again.
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.elt && event.detail.elt.id === "dashboard-live" && document.hidden) {
      event.preventDefault();
    }
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && document.getElementById("dashboard-live")) {
      document.body.dispatchEvent(new Event("dashboard-refresh"));
    }
  });
  // A session that expired while the page was open: go to the login page instead of
  // drawing it inside the dashboard.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.elt;
    var xhr = event.detail.xhr;
    if (!elt || elt.id !== "dashboard-live" || !xhr || !xhr.responseURL) { return; }
    if (new URL(xhr.responseURL).pathname !== elt.getAttribute("hx-get")) {
      event.detail.shouldSwap = false;
      window.location.reload();
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
