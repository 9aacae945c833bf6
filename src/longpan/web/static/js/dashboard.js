// Dashboard charts (ECharts). Data comes from <script type="application/json"> blocks.
"use strict";
(function () {
  const read = (id) => JSON.parse(document.getElementById(id).textContent);

  function timeChart(node, data) {
    const chart = echarts.init(node);
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0 },
      grid: { top: 40, left: 40, right: 20, bottom: 30 },
      xAxis: { type: "category", data: data.months },
      yAxis: { type: "value", minInterval: 1 },
      series: data.series.map((s) => ({ name: s.name, type: "bar", stack: "all", data: s.data })),
    });
    return chart;
  }

  function statusChart(node, status, labels) {
    const chart = echarts.init(node);
    chart.setOption({
      tooltip: { trigger: "item" },
      legend: { bottom: 0 },
      series: [{
        type: "pie", radius: ["40%", "70%"],
        data: Object.keys(status).map((k) => ({ name: labels[k] || k, value: status[k] })),
      }],
    });
    return chart;
  }

  function mapChart(node, cities) {
    const chart = echarts.init(node);
    const values = cities.map((c) => ({ name: c.city.endsWith("市") ? c.city : c.city + "市", value: c.count }));
    const max = Math.max(1, ...values.map((v) => v.value));
    fetch("/static/vendor/jiangsu.json").then((r) => r.json()).then((geo) => {
      echarts.registerMap("jiangsu", geo);
      chart.setOption({
        tooltip: { trigger: "item" },
        visualMap: { min: 0, max: max, left: 0, bottom: 0, calculable: true, inRange: { color: ["#fde0dd", "#a4161a"] } },
        series: [{ type: "map", map: "jiangsu", roam: false, label: { show: true, fontSize: 10 }, data: values }],
      });
      chart.on("click", (p) => { window.location.href = "/findings?city=" + encodeURIComponent(p.name.replace(/市$/, "")); });
    }).catch(() => { node.textContent = "—"; });
    return chart;
  }

  function loopChart(node, loop, labels) {
    const rows = (loop.by_type || []);
    const chart = echarts.init(node);
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { top: 40, left: 40, right: 40, bottom: 60 },
      xAxis: { type: "category", data: rows.map((r) => r.type_title || r.type), axisLabel: { rotate: 20 } },
      yAxis: [{ type: "value", minInterval: 1 }, { type: "value", name: labels.median }],
      series: [
        { name: labels.overdue, type: "bar", data: rows.map((r) => r.overdue || 0) },
        { name: labels.median, type: "line", yAxisIndex: 1, data: rows.map((r) => r.median_days_to_close) },
      ],
    });
    return chart;
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (!window.echarts) return;
    const data = read("dashboard-data");
    const labels = read("dashboard-labels");
    const charts = [
      timeChart(document.getElementById("chart-time"), data.over_time),
      statusChart(document.getElementById("chart-status"), data.status, labels),
      mapChart(document.getElementById("chart-map"), data.cities),
    ];
    const loopNode = document.getElementById("chart-loop");
    if (loopNode && data.loop) charts.push(loopChart(loopNode, data.loop, labels));
    window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
  });
})();
