// Placeholder until the web app lands: it only shows that the API answers.
fetch("/api/v1/traces?limit=1").then((r) => r.json()).then((d) => {
  const p = document.createElement("p");
  p.textContent = `${d.totals ? d.totals.traces : 0} traces stored`;
  document.getElementById("app").append(p);
});
