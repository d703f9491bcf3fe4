// The indicators page's two charts (ECharts, vendored): drawn from the JSON the page carries, which holds only
// figures the tables show; a suppressed figure is a gap. The tables stay the text alternative.
(function () {
  "use strict";
  function draw() {
    var data = JSON.parse(document.getElementById("indicator-data").textContent);
    var base = {grid: {left: 48, right: 12, top: 36, bottom: 64}, tooltip: {trigger: "axis"},
                xAxis: {type: "category", data: data.areas, axisLabel: {interval: 0, rotate: 30}}, yAxis: {type: "value"},
                aria: {enabled: true}, animation: false};
    var incidents = echarts.init(document.getElementById("chart-incidents"));
    incidents.setOption(Object.assign({}, base, {
      legend: {data: [data.labels.per10k]},
      series: [{name: data.labels.per10k, type: "bar", data: data.incidents_per_10k, itemStyle: {color: "#1f5fa8"}}]}));
    var timely = echarts.init(document.getElementById("chart-timeliness"));
    timely.setOption(Object.assign({}, base, {
      legend: {data: [data.labels.forwarded, data.labels.acknowledged]},
      yAxis: {type: "value", max: 100, axisLabel: {formatter: "{value}%"}},
      series: [{name: data.labels.forwarded, type: "bar", data: data.forwarded, itemStyle: {color: "#1f5fa8"}},
               {name: data.labels.acknowledged, type: "bar", data: data.acknowledged, itemStyle: {color: "#b35c00"}}]}));
    window.addEventListener("resize", function () { incidents.resize(); timely.resize(); });
    document.documentElement.dataset.chartsDrawn = "yes";
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
