// Wallet overview: the balance-over-time chart. Data comes from a json_script block
// (no inline script: the CSP forbids it). Amounts arrive as strings so no precision is
// lost on the way; Chart.js only needs numbers to place points on the axis. Times are
// local wall times, written and amounts formatted by window.Display (app.js).
(function () {
  "use strict";
  function draw() {
    var canvas = document.getElementById("wallet-balance-chart");
    var source = document.getElementById("wallet-balance-data");
    if (!canvas || !source || typeof window.Chart === "undefined") { return; }
    var points = JSON.parse(source.textContent);
    var currency = canvas.dataset.currency || "";
    var display = window.Display;
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: points.map(function (p) { return display.dateTime(display.wallTime(p.t)); }),
        datasets: [{
          label: "Balance after entry",
          data: points.map(function (p) { return Number(p.balance); }),
          stepped: true,
          pointRadius: 0,
          borderWidth: 2
        }]
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (ctx) { return display.money(points[ctx.dataIndex].balance, currency); } } }
        },
        scales: {
          x: { ticks: { maxTicksLimit: 8 } },
          y: { ticks: { callback: function (value) { return display.money(value, currency); } } }
        }
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
