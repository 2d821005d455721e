// Draw every chart of the page with the Vega-Lite bundle this server serves (/static/vega.js, loaded before
// this module); the page records how many charts drew and failed, for people and for the browser tests.
const charts = Array.from(document.querySelectorAll(".vega-chart"));
const results = await Promise.allSettled(charts.map(el => {
  const spec = JSON.parse(document.getElementById("spec-" + el.dataset.chart).textContent);
  return window.vegaEmbed(el, spec, {renderer: "svg", actions: false});
}));
const failed = results.filter(r => r.status === "rejected");
failed.forEach(r => console.error("chart failed:", r.reason));
document.body.dataset.chartsRendered = String(results.length - failed.length);
document.body.dataset.chartsFailed = String(failed.length);
