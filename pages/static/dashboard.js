// The step x tier chart (ECharts), drawn from the same numbers as the table
// beside it; without JavaScript the table alone is the dashboard.
(function () {
  function draw() {
    var el = document.getElementById("step-tier-chart");
    var data = document.getElementById("step-tier-data");
    if (!el || !data || !window.echarts) { return; }
    var d = JSON.parse(data.textContent);
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      aria: { enabled: true },
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 8, bottom: 8, top: 36, containLabel: true },
      xAxis: { type: "category", data: d.steps, axisLabel: { interval: 0, width: 80, overflow: "break" } },
      yAxis: { type: "value", minInterval: 1 },
      series: d.series.map(function (s) { return { name: s.name, type: "bar", stack: "tiers", data: s.data }; })
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
