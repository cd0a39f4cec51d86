/* Target-vs-actual charts of the node page (templates/tracking/_indicator.html).

   Each <canvas data-chart="ID"> is drawn from the JSON in <script id="ID"
   type="application/json"> (Django's json_script): {labels, unit, datasets: [{kind, label,
   data}]}, kind being "target", "actual" or "baseline". Series differ by line style and
   point shape as well as colour; the table beside each chart holds the same numbers.
   Charts are drawn on page load and again in whatever htmx swaps in (a recorded value
   returns the indicator's section). No inline scripts or styles: CSP-friendly.
*/
(function () {
  "use strict";

  var STYLES = {
    target: { borderColor: "#1a56a8", borderDash: [6, 4], pointStyle: "rectRot", pointRadius: 4 },
    actual: { borderColor: "#17703a", borderDash: [], pointStyle: "circle", pointRadius: 4 },
    baseline: { borderColor: "#56606b", borderDash: [2, 3], pointStyle: "line", pointRadius: 0 },
  };

  var reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function number(value, unit) {
    var text = value === null || value === undefined ? "no value" : value.toLocaleString();
    return unit && value !== null ? text + " " + unit : text;
  }

  function draw(canvas) {
    if (!window.Chart || window.Chart.getChart(canvas)) {
      return;
    }
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) {
      return;
    }
    var data = JSON.parse(source.textContent);
    var datasets = data.datasets.map(function (series) {
      var style = STYLES[series.kind] || STYLES.actual;
      return {
        label: series.label,
        data: series.data,
        borderColor: style.borderColor,
        backgroundColor: style.borderColor,
        borderDash: style.borderDash,
        borderWidth: series.kind === "baseline" ? 1.5 : 2.5,
        pointStyle: style.pointStyle,
        pointRadius: style.pointRadius,
        pointHoverRadius: style.pointRadius + 2,
        spanGaps: true,
        tension: 0,
      };
    });
    new window.Chart(canvas, {
      type: "line",
      data: { labels: data.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: reduceMotion ? false : { duration: 300 },
        interaction: { mode: "index", intersect: false },
        scales: {
          y: {
            beginAtZero: false,
            title: { display: Boolean(data.unit), text: data.unit },
            ticks: { color: "#3d4650" },
            grid: { color: "#e3e7ec" },
          },
          x: { ticks: { color: "#3d4650", autoSkip: true, maxRotation: 0 }, grid: { display: false } },
        },
        plugins: {
          legend: {
            position: "bottom",
            labels: { usePointStyle: true, color: "#1f2933", boxHeight: 8 },
          },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                return ctx.dataset.label + ": " + number(ctx.parsed.y, data.unit);
              },
            },
          },
        },
      },
    });
  }

  function drawAll(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var canvases = scope.querySelectorAll("canvas[data-chart]");
    if (scope.matches && scope.matches("canvas[data-chart]")) {
      draw(scope);
    }
    canvases.forEach(draw);
  }

  // Release the chart of a canvas htmx is about to remove.
  document.addEventListener("htmx:beforeCleanupElement", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.matches && elt.matches("canvas[data-chart]") && window.Chart) {
      var chart = window.Chart.getChart(elt);
      if (chart) {
        chart.destroy();
      }
    }
  });
  document.addEventListener("htmx:load", function (event) {
    drawAll(event.detail.elt);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      drawAll(document);
    });
  } else {
    drawAll(document);
  }
})();
