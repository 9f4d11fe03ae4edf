/* Kiln plots: draw every plotly figure whose JSON sits in a <script type="application/json">.
 *
 * Markup: <div class="kiln-plot" data-kiln-figure="ID"></div> next to the output of Django's
 * json_script filter with id ID ({"data": [...], "layout": {...}}). Figures are drawn when the
 * page loads and whenever htmx swaps new content in (htmx:load), each element once.
 */
(function () {
  "use strict";

  function draw(root) {
    if (!window.Plotly || !root || !root.querySelectorAll) return;
    var targets = root.matches && root.matches("[data-kiln-figure]") ? [root] : [];
    root.querySelectorAll("[data-kiln-figure]").forEach(function (el) { targets.push(el); });
    targets.forEach(function (el) {
      if (el.dataset.drawn) return;
      var source = document.getElementById(el.dataset.kilnFigure);
      if (!source) return;
      var figure = JSON.parse(source.textContent);
      var layout = Object.assign({ autosize: true, height: 380 }, figure.layout || {});
      el.dataset.drawn = "1";
      window.Plotly.newPlot(el, figure.data || [], layout, {
        responsive: true,
        displaylogo: false,
        modeBarButtonsToRemove: ["select2d", "lasso2d"],
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:load", function (event) { draw(event.target); });
  window.kilnDrawPlots = draw;
})();
