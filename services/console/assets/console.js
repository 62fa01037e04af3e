// @ts-check
/* Veilleur console: draws the time-series charts with uPlot from the JSON block beside each chart. Everything else
 * works without JavaScript; each chart's figures are also in a sentence and a table (its text alternative). */
(function () {
  'use strict';
  var PALETTE = ['#1a4fa3', '#b54708', '#0f766e', '#7c3aed', '#4d7c0f', '#be185d', '#334155', '#0369a1'];
  var THRESHOLD = '#a4161a';

  /** @param {HTMLElement} el */
  function draw(el) {
    var id = el.getAttribute('data-chart');
    var block = document.getElementById(id + '-donnees');
    // @ts-ignore uPlot is the global of uPlot.iife.min.js, served by the console
    var uPlot = window.uPlot;
    if (!block || !uPlot) return;
    var data = JSON.parse(block.textContent || '{}');
    var series = data.series || [];
    var times = {};
    series.forEach(function (s) { s.points.forEach(function (p) { times[p[0]] = true; }); });
    var xs = Object.keys(times).map(Number).sort(function (a, b) { return a - b; });
    if (!xs.length) return;
    var columns = [xs.map(function (t) { return t / 1000; })];
    series.forEach(function (s) {
      var byTime = {};
      s.points.forEach(function (p) { byTime[p[0]] = p[1]; });
      columns.push(xs.map(function (t) { return t in byTime ? byTime[t] : null; }));
    });
    var locale = data.lang === 'en' ? 'en-GB' : 'fr-FR';
    var numberFormat = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
    var unit = data.unit ? '\u202f' + data.unit : '';
    var uSeries = [{ label: data.timeLabel, value: function (u, v) { return v == null ? '–' : new Date(v * 1000).toLocaleString(locale, { timeZone: data.timeZone, dateStyle: 'short', timeStyle: 'short' }); } }];
    series.forEach(function (s, i) {
      uSeries.push({
        label: s.label,
        stroke: PALETTE[i % PALETTE.length],
        width: 2,
        spanGaps: false,
        paths: data.steps ? uPlot.paths.stepped({ align: 1 }) : undefined,
        points: { show: s.points.length < 60 },
        value: function (u, v) { return v == null ? '–' : numberFormat.format(v) + unit; },
      });
    });
    // Threshold lines, told apart by their dash when there are several (the class limits of an index).
    var DASHES = [[8, 6], [2, 4], [12, 4, 2, 4]];
    data.thresholds.forEach(function (t, i) {
      columns.push(xs.map(function () { return t.value; }));
      uSeries.push({ label: t.legend, stroke: THRESHOLD, width: 2, dash: DASHES[i % DASHES.length], points: { show: false }, value: function () { return numberFormat.format(t.value) + unit; } });
    });
    // Tick labels in 24-hour local time of the site, with the date when the chart spans more than a day.
    var span = (xs[xs.length - 1] - xs[0]) / 1000;
    var tickFormat = new Intl.DateTimeFormat(locale, span > 8 * 86400 ? { timeZone: data.timeZone, day: '2-digit', month: '2-digit' } : span > 36 * 3600 ? { timeZone: data.timeZone, day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' } : { timeZone: data.timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    function timeTicks(u, splits) { return splits.map(function (v) { return tickFormat.format(new Date(v * 1000)); }); }
    // The value axis: from zero for volumes, energies and states; otherwise around the values (and the threshold),
    // with a margin, and a unit either side of a flat series rather than uPlot's 0–100.
    function valueRange(u, dataMin, dataMax) {
      var lo = dataMin, hi = dataMax;
      data.thresholds.forEach(function (t) { lo = Math.min(lo, t.value); hi = Math.max(hi, t.value); });
      if (lo == null || hi == null || !isFinite(lo) || !isFinite(hi)) return [0, 1];
      if (data.zeroBased && lo >= 0) lo = 0;
      if (data.steps) return [0, Math.max(1, hi) * 1.1];
      var pad = hi > lo ? (hi - lo) * 0.1 : Math.max(1, Math.abs(hi) * 0.05);
      return [data.zeroBased && lo === 0 ? 0 : lo - pad, hi + pad];
    }
    var width = Math.max(280, el.clientWidth || 600);
    var opts = {
      width: width,
      height: 280,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), data.timeZone); },
      series: uSeries,
      axes: [{ stroke: '#4a5360', grid: { stroke: '#e3e7ec' }, values: timeTicks },  { stroke: '#4a5360', grid: { stroke: '#e3e7ec' }, size: 60, values: function (u, vals) { return vals.map(function (v) { return numberFormat.format(v); }); } }],
      scales: { x: { time: true }, y: { range: valueRange } },
      cursor: { drag: { x: false, y: false } },
    };
    var plot = new uPlot(opts, columns, el);
    el.setAttribute('data-drawn', 'true');
    window.addEventListener('resize', function () { plot.setSize({ width: Math.max(280, el.clientWidth || 600), height: 280 }); });
  }


  function init() {
    var charts = document.querySelectorAll('[data-chart]');
    for (var i = 0; i < charts.length; i++) draw(/** @type {HTMLElement} */ (charts[i]));
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
