// The officials' dashboard: the figures are read again from the stats API every few seconds
// while the page is visible, and written in place (no reload). The API answers from the same
// selectors the page was drawn from, so a figure never changes meaning between the two.
(function () {
  "use strict";
  const root = document.getElementById("dashboard");
  if (!root) {
    return;
  }
  const url = root.dataset.statsUrl;
  const every = Math.max(10, Number(root.dataset.refreshSeconds) || 15) * 1000;
  const chartsUrl = root.dataset.chartsUrl;
  const updated = root.querySelector("[data-updated]");
  const stale = root.querySelector("[data-stale]");
  let timer = null;

  function value(data, path) {
    return path.split(".").reduce((node, key) => (node == null ? undefined : node[key]), data);
  }

  function show(data) {
    root.querySelectorAll("[data-figure]").forEach((el) => {
      let v = value(data, el.dataset.figure);
      if (v === undefined && el.dataset.figure.startsWith("refusals.")) {
        v = 0; // a reason with no refusal is not in the answer
      }
      if (el.dataset.format === "percent") {
        el.textContent = v == null ? root.dataset.textNone : Math.round(v * 100) + "%";
      } else if (v !== undefined) {
        el.textContent = String(v);
      }
    });
    (data.checkpoints || []).forEach((row) => {
      const tr = root.querySelector(`tr[data-checkpoint="${CSS.escape(row.code)}"]`);
      if (!tr) {
        return;
      }
      tr.querySelectorAll("[data-column]").forEach((td) => {
        td.textContent = String(row[td.dataset.column]);
      });
    });
    const at = new Date(data.updated_at);
    updated.dateTime = data.updated_at;
    updated.textContent = at.toLocaleTimeString(document.documentElement.lang, {
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hour12: false,
    });
    stale.hidden = true;
    root.dataset.refreshed = String(Number(root.dataset.refreshed || 0) + 1);
  }

  // The charts (Apache ECharts, served from our static files). Each is made once and given
  // only new data afterwards: charts re-created on every tick grow a long-running page.
  const wall = document.body.classList.contains("wall");
  const texts = JSON.parse(document.getElementById("dashboard-texts").textContent);
  const charts = {};
  const RISK = {low: "#046c2c", medium: "#d4a600", high: "#b3141b"};

  function chart(name) {
    const el = root.querySelector(`[data-chart="${name}"]`);
    if (!el || typeof echarts === "undefined") {
      return null;
    }
    if (!charts[name]) {
      charts[name] = echarts.init(el, wall ? "dark" : null, {renderer: "canvas"});
      window.addEventListener("resize", () => charts[name].resize());
    }
    return charts[name];
  }

  const base = () => ({
    animation: false,
    backgroundColor: "transparent",
    textStyle: {fontSize: wall ? 18 : 12},
    tooltip: {trigger: "axis"},
    legend: {top: 0, textStyle: {fontSize: wall ? 18 : 12}},
    grid: {left: 48, right: 16, top: 40, bottom: 32},
  });

  function draw(data) {
    const hours = Array.from({length: 24}, (_, h) => String(h).padStart(2, "0"));
    const hourly = chart("hourly");
    if (hourly) {
      const series = [];
      data.hourly.forEach((site) => {
        series.push({name: `${site.name} · ${texts.entries}`, type: "bar", stack: "in", data: site.entries});
        series.push({name: `${site.name} · ${texts.exits}`, type: "bar", stack: "out", data: site.exits});
      });
      // One line of legend, scrolled: a city has more checkpoints than fit beside the chart.
      const legend = {...base().legend, type: "scroll"};
      hourly.setOption(
        {...base(), legend, xAxis: {type: "category", data: hours}, yAxis: {type: "value", minInterval: 1}, series},
        {replaceMerge: ["series"]},
      );
    }
    const trend = chart("trend");
    if (trend) {
      trend.setOption({
        ...base(),
        xAxis: {type: "category", data: data.trend.days.map((d) => d.slice(5))},
        yAxis: {type: "value", minInterval: 1},
        series: [
          {name: texts.registrations, type: "line", data: data.trend.registrations},
          {name: texts.entries, type: "line", data: data.trend.entries},
        ],
      });
    }
    const origins = chart("origins");
    if (origins) {
      const rows = data.origins.slice().reverse();
      origins.setOption({
        ...base(),
        legend: {show: false},
        tooltip: {trigger: "item", formatter: (p) => `${echarts.format.encodeHTML(rows[p.dataIndex].name)} · ${echarts.format.encodeHTML(texts.risk[rows[p.dataIndex].risk_level] || "")}: ${p.value}`},
        grid: {left: 16, right: 24, top: 8, bottom: 24, containLabel: true},
        xAxis: {type: "value", minInterval: 1},
        yAxis: {type: "category", data: rows.map((r) => `${r.name} · ${texts.risk[r.risk_level] || ""}`)},
        series: [{name: texts.trips, type: "bar", data: rows.map((r) => ({value: r.trips, itemStyle: {color: RISK[r.risk_level] || "#4b5563"}}))}],
      });
    }
  }

  // The map: the checkpoints by their coordinates, each marked by its entries and exits of the
  // period. On the deployment's own outline when it has one (a GeoJSON file; the product ships
  // no boundary data), else on plain longitude and latitude axes.
  const initial = JSON.parse(document.getElementById("dashboard-charts").textContent);
  const sites = initial.sites || [];
  let outline = false;
  let counts = {};

  function drawMap() {
    const map = chart("map");
    if (!map || !sites.length) {
      return;
    }
    const points = sites.map((site) => {
      const c = counts[site.code] || {entries: 0, exits: 0};
      return {
        name: site.name,
        value: [site.lon, site.lat, c.entries, c.exits],
        label: {show: true, formatter: `${site.name}  ${c.entries} / ${c.exits}`, position: "right"},
      };
    });
    const scatter = {
      type: "scatter",
      data: points,
      labelLayout: {hideOverlap: true},
      symbolSize: (v) => 12 + Math.min(24, Math.sqrt(v[2] + v[3]) * 3),
      itemStyle: {color: "#1d4ed8"},
      tooltip: {
        formatter: (p) =>
          `${echarts.format.encodeHTML(p.name)}<br>${texts.entries}: ${p.value[2]} · ${texts.exits}: ${p.value[3]}`,
      },
    };
    if (outline) {
      map.setOption({...base(), legend: {show: false}, tooltip: {trigger: "item"},
        geo: {map: "outline", roam: true, itemStyle: {areaColor: wall ? "#1e293b" : "#e5e7eb"}},
        series: [{...scatter, coordinateSystem: "geo"}]});
    } else {
      map.setOption({...base(), legend: {show: false}, tooltip: {trigger: "item"},
        grid: {left: 56, right: 160, top: 16, bottom: 32},
        xAxis: {type: "value", name: "°E", ...around(sites.map((site) => site.lon))},
        yAxis: {type: "value", name: "°N", ...around(sites.map((site) => site.lat))},
        series: [scatter]});
    }
  }

  // An axis range around the checkpoints, a little wider than they spread (half a degree at
  // least, so that one checkpoint alone is not drawn on a whole hemisphere).
  function around(values) {
    const low = Math.min(...values);
    const high = Math.max(...values);
    const pad = Math.max(0.5, (high - low) * 0.1);
    const round = (v) => Math.round(v * 10) / 10;
    return {min: round(low - pad), max: round(high + pad)};
  }

  function countsFrom(figures) {
    counts = {};
    (figures.checkpoints || []).forEach((row) => {
      counts[row.code] = row;
    });
  }

  if (root.dataset.outlineUrl) {
    read(root.dataset.outlineUrl)
      .then((geojson) => {
        echarts.registerMap("outline", geojson);
        outline = true;
        drawMap();
      })
      .catch(() => drawMap());
  }

  draw(initial);
  root.querySelectorAll("tr[data-checkpoint]").forEach((tr) => {
    const cell = (name) => Number(tr.querySelector(`[data-column="${name}"]`).textContent);
    counts[tr.dataset.checkpoint] = {entries: cell("entries"), exits: cell("exits")};
  });
  drawMap();

  async function read(address) {
    const answer = await fetch(address, {
      headers: {Accept: "application/json"},
      credentials: "same-origin",
    });
    if (!answer.ok) {
      throw new Error(String(answer.status));
    }
    return answer.json();
  }

  async function refresh() {
    try {
      const [figures, series] = await Promise.all([read(url), read(chartsUrl)]);
      show(figures);
      draw(series);
      countsFrom(figures);
      drawMap();
    } catch (error) {
      stale.textContent = root.dataset.textStale;
      stale.hidden = false;
    }
  }

  function schedule() {
    clearInterval(timer);
    timer = null;
    if (document.visibilityState === "visible") {
      timer = setInterval(refresh, every);
    }
  }

  // The wall screen: full screen on a press (browsers allow it only from a gesture), and a
  // fresh page once a day, so that a screen left on for weeks starts clean.
  if (document.body.classList.contains("wall")) {
    const full = root.querySelector("[data-fullscreen]");
    if (full && document.fullscreenEnabled) {
      full.hidden = false;
      full.addEventListener("click", () => document.documentElement.requestFullscreen());
    }
    setTimeout(() => window.location.reload(), 24 * 3600 * 1000);
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      refresh();
    }
    schedule();
  });
  schedule();
})();
