// The delivery chart (ECharts, vendored): cumulative counts over time, refreshed with the counts.
(function () {
  function start() {
    var el = document.getElementById("chart");
    if (!el || !window.echarts) { return; }
    var chart = echarts.init(el, null, {renderer: "svg"});
    var names = (el.getAttribute("data-labels") || "").split("|");
    function load() {
      fetch(el.getAttribute("data-src"), {credentials: "same-origin"}).then(function (r) { return r.json(); })
        .then(function (d) {
          var keys = ["queued", "accepted", "delivered", "failed"];
          chart.setOption({
            animation: false, grid: {left: 40, right: 12, top: 30, bottom: 30},
            legend: {data: names}, xAxis: {type: "category", data: d.t, name: "s"}, yAxis: {type: "value"},
            series: keys.map(function (k, i) { return {name: names[i], type: "line", step: "end", data: d[k]}; })
          });
          el.setAttribute("data-points", String(d.t.length));
        });
    }
    load();
    setInterval(load, 3000);
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
