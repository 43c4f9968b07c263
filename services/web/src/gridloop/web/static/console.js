// The console's maps and charts, drawn from data the server put in the page (no inline script).

// Leaflet renders a string tooltip as HTML; a name typed in the directory goes in as text.
function label(text) {
  const span = document.createElement('span');
  span.textContent = text;
  return span;
}

function pointMap(el) {
  const [lon, lat] = el.dataset.point.split(',').map(Number);
  const map = window.L.map(el, { zoomAnimation: false }).setView([lat, lon], 16);
  window.L.marker([lat, lon], { alt: '上报位置', title: '上报位置' }).addTo(map);
}

function districtMap(el) {
  const grids = JSON.parse(el.dataset.grids);
  const counts = JSON.parse(el.dataset.counts);
  const points = JSON.parse(el.dataset.points);
  const map = window.L.map(el, { zoomAnimation: false });
  const shade = (code) => {
    const c = counts[code] || { open: 0, overdue: 0 };
    if (c.overdue) return '#b3261e';
    return c.open ? '#e69138' : '#6aa84f';
  };
  const layer = window.L.geoJSON(grids.map((g) => ({ type: 'Feature', geometry: g.geometry, properties: g })), {
    style: (f) => ({ color: '#0b5394', weight: 1, fillColor: shade(f.properties.code), fillOpacity: 0.45, className: `grid-${f.properties.code}` }),
    onEachFeature: (f, shape) => {
      const c = counts[f.properties.code] || { open: 0, overdue: 0 };
      shape.bindTooltip(label(`${f.properties.name}：在办 ${c.open}，超期 ${c.overdue}`));
      shape.on('click', () => { window.location.href = `/console/command/grids/${encodeURIComponent(f.properties.code)}`; });
    },
  });
  // The view first: Leaflet cannot draw vector layers on a map without one.
  if (grids.length) map.fitBounds(layer.getBounds()); else map.setView([30.2, 120.1], 12);
  layer.addTo(map);
  for (const p of points) {
    window.L.circleMarker([p.lat, p.lon], { radius: 6, color: p.overdue ? '#b3261e' : '#0b5394', fillOpacity: 0.9, className: `ticket-${p.ticket_id}` })
      .bindTooltip(label(`${p.ticket_number} ${p.category_name}`))
      .on('click', () => { window.location.href = `/console/command/tickets/${encodeURIComponent(p.ticket_id)}`; })
      .addTo(map);
  }
}

// Each department's name under its bars, wrapped to the width the bars leave it (a phone's 360 px
// leaves little), never over its neighbour's.
const nameLabels = (el, names) => ({
  interval: 0, overflow: 'breakAll', width: Math.max(36, Math.floor((el.clientWidth - 80) / Math.max(names.length, 1)) - 6),
});

function barChart(el) {
  const data = JSON.parse(el.dataset.chart);
  const chart = window.echarts.init(el, null, { renderer: 'svg' });
  chart.setOption({
    // ECharts writes the chart's accessible name from its data; it opens by saying what is counted.
    aria: { enabled: true, label: { general: { withoutTitle: '这是各部门接单与办结用时中位数的柱状图（单位：工作时间分钟），' } } },
    // Drawn inside the chart, not as HTML: ECharts' HTML tooltip carries style attributes, which the
    // page's Content-Security-Policy refuses, and names from the directory never meet an HTML parser.
    tooltip: { trigger: 'axis', renderMode: 'richText' },
    legend: { top: 0, right: 10 },
    grid: { left: 10, right: 20, top: 56, bottom: 10, containLabel: true },
    xAxis: { type: 'category', data: data.names, axisLabel: nameLabels(el, data.names) },
    yAxis: { type: 'value', name: '工作时间分钟' },
    // Each bar carries its figure, so a median of 0 minutes reads as 0, not as a missing bar.
    series: data.series.map((s) => ({ name: s.name, type: 'bar', data: s.values, label: { show: true, position: 'top' } })),
  });
  chart.on('click', (params) => { window.location.href = data.links[params.dataIndex]; });
  window.addEventListener('resize', () => {
    chart.setOption({ xAxis: { axisLabel: nameLabels(el, data.names) } });
    chart.resize();
  });
}

window.addEventListener('DOMContentLoaded', () => {
  document.querySelectorAll('[data-map][data-point]').forEach(pointMap);
  document.querySelectorAll('[data-map][data-grids]').forEach(districtMap);
  document.querySelectorAll('[data-chart]').forEach(barChart);
});
