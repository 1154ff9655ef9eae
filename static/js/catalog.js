// Catalog pages: the net price history chart of the product page (Chart.js, vendored).
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("price-history-data");
    var canvas = document.getElementById("price-history-chart");
    if (!source || !canvas || typeof Chart === "undefined") { return; }
    var series = JSON.parse(source.textContent);
    // Times are local wall times and amounts are written by window.Display (app.js).
    var display = window.Display;
    var currency = canvas.dataset.currency || "";
    var palette = ["#0d6efd", "#dc3545", "#198754", "#fd7e14", "#6f42c1", "#20c997", "#6c757d"];
    var datasets = series.map(function (line, index) {
      return {
        label: line.label,
        data: line.points.map(function (p) { return { x: display.wallTime(p.t), y: Number(p.net) }; }),
        borderColor: palette[index % palette.length],
        backgroundColor: palette[index % palette.length],
        stepped: "before",
        pointRadius: 3
      };
    });
    new Chart(canvas, {
      type: "line",
      data: { datasets: datasets },
      options: {
        maintainAspectRatio: false,
        parsing: true,
        scales: {
          x: {
            type: "linear",
            ticks: { callback: function (value) { return display.date(value); } }
          },
          y: {
            title: { display: true, text: currency ? "Net price (" + currency + ")" : "Net price" },
            ticks: { callback: function (value) { return display.money(value, currency); } }
          }
        },
        plugins: {
          tooltip: {
            callbacks: {
              title: function (items) { return display.dateTime(items[0].parsed.x); },
              label: function (ctx) { return ctx.dataset.label + ": " + display.money(ctx.parsed.y, currency); }
            }
          }
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
