/* ais_bench report: draws every <figure class="chart"> of the page from the JSON spec beside it
   (written by ais_bench/report/html/spec.py), on uPlot (vendored beside this file, MIT).
   uPlot draws the axes, grid, lines, step outlines and the legend; this file draws points,
   bars, value labels, rules and shaded spans on the same canvas.
   Once done, each figure carries data-drawn="1", data-marks (values drawn) and data-ink
   (coloured pixels on its canvases); <html data-charts-drawn="N">; errors go to #js-errors. */
(function () {
  "use strict";
  var errors = [];
  function report(msg) {
    errors.push(msg);
    document.documentElement.setAttribute("data-js-errors", String(errors.length));
    var el = document.getElementById("js-errors");
    if (el) { el.textContent = "chart error: " + errors.join("\n"); el.hidden = false; }
  }
  window.addEventListener("error", function (e) { report(String(e.message)); });

  function values(v) {
    if (v == null) return null;
    if (Array.isArray(v)) return v;
    var bin = atob(v.f32), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return Array.from(new Float32Array(bytes.buffer), function (x) { return isNaN(x) ? null : x; });
  }

  function rgba(hex, a) {
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16 & 255) + "," + (n >> 8 & 255) + "," + (n & 255) + "," + a + ")";
  }

  // The series as drawn: x (0..n-1 when not given), y, and for stacked bars where each starts.
  function prepare(p) {
    var piles = {};
    var ss = p.series.map(function (s) {
      var y = values(s.y), x = values(s.x) || y.map(function (_, i) { return i; });
      var out = Object.assign({}, s, { x: x, y: y, y0: null, y1: y });
      if (s.style === "bars" && s.stack) {
        var pile = piles[s.stack] || (piles[s.stack] = y.map(function () { return 0; }));
        out.y0 = pile.slice();
        out.y1 = y.map(function (v, i) { return (pile[i] += (v || 0)); });
      }
      return out;
    });
    // uPlot takes one x for all series: the union of theirs, each series null where it has none.
    var seen = new Set();
    ss.forEach(function (s) { s.x.forEach(function (v) { seen.add(v); }); });
    var xs = Array.from(seen).sort(function (a, b) { return a - b; });
    var at = new Map(xs.map(function (v, i) { return [v, i]; }));
    var data = [xs].concat(ss.map(function (s) {
      var col = new Array(xs.length).fill(null);
      s.x.forEach(function (v, i) { if (s.y1[i] != null) col[at.get(v)] = s.y1[i]; });
      return col;
    }));
    return { ss: ss, data: data };
  }

  function scale(a, cats) {
    var sc = { time: false, auto: true };
    if (a.log) { sc.distr = 3; sc.log = 10; }
    if (cats) { sc.range = [-0.5, cats.length - 0.5]; return sc; }
    var pad = a.pad != null ? a.pad : 0.08;
    sc.range = function (u, lo, hi) {
      if (lo == null || hi == null) { lo = a.lo != null ? a.lo : 0; hi = a.hi != null ? a.hi : 1; }
      var r;
      if (a.log) {
        var l0 = Math.log10(lo), l1 = Math.log10(hi), d = (l1 - l0 || 1) * pad;
        r = [Math.pow(10, l0 - d), Math.pow(10, l1 + d)];
      } else {
        var span = hi - lo || Math.abs(hi) || 1;
        r = [lo - span * pad, hi + span * pad];
      }
      return [a.lo != null ? a.lo : r[0], a.hi != null ? a.hi : r[1]];
    };
    return sc;
  }

  var FONT = "12px system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif";
  var LABEL_FONT = "bold 12px system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif";

  // Tick labels with as many decimals as the step between ticks needs (uPlot's default
  // formatter stops at three, so 0.0035 and 0.0040 would both read 0.004).
  function ticks(log) {
    return function (u, splits, ai, space, incr) {
      return splits.map(function (v) {
        if (v == null) return "";
        if (log || !incr) return String(Number(v.toPrecision(6)));
        var d = Math.max(0, Math.ceil(-Math.log10(incr) - 1e-9));
        if (Math.abs(incr * Math.pow(10, d) - Math.round(incr * Math.pow(10, d))) > 1e-6) d++;
        return v.toFixed(Math.min(d, 15));
      });
    };
  }

  function axis(a, cats, side) {
    var o = { label: a.label || null, stroke: "#3b4252", font: FONT, labelFont: LABEL_FONT,
              grid: { stroke: "#e5e7eb", width: 1 }, ticks: { stroke: "#cfd4dc", width: 1, size: 5 } };
    if (side === 3) o.size = 62;
    if (side === 2 && !cats) o.space = 70;  // room for tick labels such as 0.00475
    if (!cats) o.values = ticks(a.log);
    if (a.integer && !a.log) o.incrs = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7];
    if (cats) {
      var longest = Math.max.apply(null, cats.map(function (c) { return c.length; }).concat([1]));
      o.splits = function () { return cats.map(function (_, i) { return i; }); };
      o.values = function (u, splits) { return splits.map(function (i) { return cats[i] != null ? cats[i] : ""; }); };
      o.grid = { show: false };
      if (!a.label) o.size = 30;
      if (a.rotate) { o.rotate = a.rotate; o.size = 30 + 6 * longest * Math.sin(a.rotate * Math.PI / 180); }
    }
    return o;
  }

  function shown(u, k) { return u.series[k + 1].show; }

  function spans(u, p) {
    var ctx = u.ctx, b = u.bbox, pr = uPlot.pxRatio;
    p.spans.forEach(function (s) {
      var lo = s.lo != null ? s.lo : u.scales.x.min, hi = s.hi != null ? s.hi : u.scales.x.max;
      var x0 = Math.max(b.left, u.valToPos(lo, "x", true)), x1 = Math.min(b.left + b.width, u.valToPos(hi, "x", true));
      if (x1 <= x0) return;
      ctx.fillStyle = rgba(s.color, s.alpha);
      ctx.fillRect(x0, b.top, x1 - x0, b.height);
      if (s.label) {
        ctx.fillStyle = "#51607a"; ctx.font = (11 * pr) + "px system-ui, sans-serif";
        ctx.textAlign = "center"; ctx.textBaseline = "top";
        ctx.fillText(s.label, (x0 + x1) / 2, b.top + 3 * pr);
      }
    });
  }

  function marks(u, p) {
    var ctx = u.ctx, b = u.bbox, pr = uPlot.pxRatio;
    p.marks.forEach(function (m) {
      if (m.at == null) return;
      ctx.save();
      ctx.strokeStyle = m.color; ctx.lineWidth = m.width * pr;
      ctx.setLineDash((m.dash || []).map(function (d) { return d * pr; }));
      ctx.beginPath();
      if (m.axis === "x") {
        var x = u.valToPos(m.at, "x", true);
        if (x < b.left || x > b.left + b.width) { ctx.restore(); return; }
        ctx.moveTo(x, b.top); ctx.lineTo(x, b.top + b.height);
      } else {
        var y = u.valToPos(m.at, "y", true);
        ctx.moveTo(b.left, y); ctx.lineTo(b.left + b.width, y);
      }
      ctx.stroke(); ctx.restore();
    });
  }

  function marker(ctx, kind, x, y, r) {
    if (kind === "cross") {
      ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r); ctx.moveTo(x - r, y + r); ctx.lineTo(x + r, y - r);
    } else if (kind === "triangle") {
      ctx.moveTo(x, y - r); ctx.lineTo(x + r, y + r); ctx.lineTo(x - r, y + r); ctx.closePath();
    } else {
      ctx.moveTo(x + r, y); ctx.arc(x, y, r, 0, 2 * Math.PI);
    }
  }

  function points(u, s, count) {
    var ctx = u.ctx, pr = uPlot.pxRatio, r = s.size * pr / 2, fast = s.x.length > 4000;
    ctx.fillStyle = ctx.strokeStyle = s.color; ctx.lineWidth = 1.3 * pr;
    ctx.globalAlpha = s.alpha != null ? s.alpha : 1;
    ctx.beginPath();
    for (var i = 0; i < s.x.length; i++) {
      if (s.y[i] == null) continue;
      var x = u.valToPos(s.x[i], "x", true), y = u.valToPos(s.y1[i], "y", true);
      count.n++;
      if (fast && s.marker === "dot") { ctx.rect(x - r, y - r, 2 * r, 2 * r); continue; }
      marker(ctx, s.marker, x, y, r);
    }
    if (s.marker === "cross" || s.marker === "ring") ctx.stroke(); else ctx.fill();
    ctx.globalAlpha = 1;
    if (s.labels) {
      ctx.fillStyle = "#1d2330"; ctx.font = (11 * pr) + "px system-ui, sans-serif";
      ctx.textAlign = "left"; ctx.textBaseline = "bottom";
      s.labels.forEach(function (t, i) {
        if (t && s.y[i] != null) ctx.fillText(t, u.valToPos(s.x[i], "x", true) + r + 2 * pr, u.valToPos(s.y1[i], "y", true) - 2 * pr);
      });
    }
  }

  // Bars side by side share each category's width: one slot per stack or unstacked series.
  function slots(ss) {
    var keys = [];
    ss.forEach(function (s, k) {
      if (s.style !== "bars") return;
      var key = s.stack || ("#" + k), at = keys.indexOf(key);
      if (at < 0) { at = keys.length; keys.push(key); }
      s.slot = at;
    });
    ss.forEach(function (s) { s.slots = keys.length; });
  }

  function bars(u, s, count) {
    var ctx = u.ctx, pr = uPlot.pxRatio, w = 0.8 / s.slots;
    for (var i = 0; i < s.y.length; i++) {
        if (s.y[i] == null) continue;
        var c = s.x[i] - 0.4 + s.slot * w;
        var x0 = u.valToPos(c + 0.04 * w, "x", true), x1 = u.valToPos(c + 0.96 * w, "x", true);
        var ya = u.valToPos(s.y0 ? s.y0[i] : Math.max(u.scales.y.min, 0), "y", true), yb = u.valToPos(s.y1[i], "y", true);
        ctx.globalAlpha = s.alpha != null ? s.alpha : 1;
        ctx.fillStyle = s.color;
        ctx.fillRect(x0, Math.min(ya, yb), x1 - x0, Math.abs(ya - yb));
        ctx.globalAlpha = 1;
        count.n++;
        if (s.hatch && s.hatch.indexOf(i) >= 0) {
          ctx.save(); ctx.beginPath(); ctx.rect(x0, Math.min(ya, yb), x1 - x0, Math.abs(ya - yb)); ctx.clip();
          ctx.strokeStyle = "rgba(255,255,255,0.8)"; ctx.lineWidth = 1.5 * pr; ctx.beginPath();
          for (var d = -Math.abs(ya - yb); d < x1 - x0; d += 7 * pr) {
            ctx.moveTo(x0 + d, Math.max(ya, yb)); ctx.lineTo(x0 + d + Math.abs(ya - yb), Math.min(ya, yb));
          }
          ctx.stroke(); ctx.restore();
        }
        var t = s.labels ? s.labels[i] : "";
        if (!t) continue;
        ctx.font = (11 * pr) + "px system-ui, sans-serif"; ctx.textAlign = "center";
        if (s.stack) {
          if (Math.abs(ya - yb) < 14 * pr) continue;
          ctx.fillStyle = "#fff"; ctx.textBaseline = "middle"; ctx.fillText(t, (x0 + x1) / 2, (ya + yb) / 2);
        } else {
          ctx.fillStyle = "#1d2330"; ctx.textBaseline = "bottom"; ctx.fillText(t, (x0 + x1) / 2, Math.min(ya, yb) - 2 * pr);
        }
    }
  }

  // Called as uPlot draws each series (in order, so a later line lies over earlier points).
  function custom(u, s, count) {
    if (s.style !== "bars" && !s.marker) return;
    var ctx = u.ctx, b = u.bbox, pad = 8 * uPlot.pxRatio;
    ctx.save();
    ctx.beginPath(); ctx.rect(b.left - pad, b.top - pad, b.width + 2 * pad, b.height + 2 * pad); ctx.clip();
    if (s.style === "bars") bars(u, s, count);
    if (s.marker) points(u, s, count);
    ctx.restore();
  }

  function ink(canvas) {
    var g = canvas.getContext("2d"), img = g.getImageData(0, 0, canvas.width, canvas.height).data, n = 0;
    for (var i = 0; i < img.length; i += 4) {
      var hi = Math.max(img[i], img[i + 1], img[i + 2]), lo = Math.min(img[i], img[i + 1], img[i + 2]);
      if (img[i + 3] > 0 && hi - lo > 40) n++;  // coloured: the data, not the grey axes and grid
    }
    return n;
  }

  function panel(host, p, width, count, done) {
    var prep = prepare(p), cats = p.x.cats || null, ss = prep.ss;
    slots(ss);
    var series = [{}].concat(ss.map(function (s) {
      var o = { label: s.name, stroke: s.color, width: s.width != null ? s.width : 1.5,
                spanGaps: !cats, points: { show: false } };
      if (s.dash) o.dash = s.dash;
      if (s.fill) o.fill = rgba(s.color, s.fill);
      if (s.style === "step") o.paths = uPlot.paths.stepped({ align: 1 });
      if (s.style === "points" || s.style === "bars") { o.paths = function () { return null; }; o.fill = s.color; }
      return o;
    }));
    var u = new uPlot({
      width: width, height: p.height, series: series, legend: { live: false },
      cursor: { drag: { x: !cats, y: false }, points: { show: false } },
      scales: { x: scale(p.x, cats), y: scale(p.y, null) },
      axes: [axis(p.x, cats, 2), axis(p.y, null, 3)],
      hooks: {
        drawClear: [function (u) { count.n = 0; spans(u, p); }],
        drawSeries: [function (u, si) { custom(u, ss[si - 1], count); }],
        draw: [function (u) {
          marks(u, p);
          if (!count.drawn) { count.drawn = true; count.ink = ink(u.ctx.canvas); done(); }
        }],
      },
    }, prep.data, host);
    ss.forEach(function (s, k) {
      if (s.legend === false) u.root.querySelectorAll(".u-legend .u-series")[k].style.display = "none";
    });
    return u;
  }

  function draw(fig) {
    var spec = JSON.parse(fig.querySelector("script.chart-spec").textContent);
    var host = fig.querySelector(".plots"), plots = [], counts = [];
    var width = function () { return Math.max(280, Math.floor((host.clientWidth || 900) / spec.length) - 6); };
    // uPlot draws on its own schedule (a microtask after construction): the figure is marked
    // when every panel has drawn once.
    function done() {
      if (!counts.every(function (c) { return c.drawn; })) return;
      fig.setAttribute("data-marks", String(counts.reduce(function (a, c) { return a + c.n; }, 0)));
      fig.setAttribute("data-ink", String(counts.reduce(function (a, c) { return a + c.ink; }, 0)));
      fig.setAttribute("data-drawn", "1");
      var all = document.querySelectorAll("figure.chart[data-drawn]").length;
      document.documentElement.setAttribute("data-charts-drawn", String(all));
    }
    spec.forEach(function () { counts.push({ n: 0, drawn: false, ink: 0 }); });
    spec.forEach(function (p, k) {
      var div = document.createElement("div");
      host.appendChild(div);
      plots.push(panel(div, p, width(), counts[k], done));
    });
    return function () { plots.forEach(function (u) { u.setSize({ width: width(), height: u.height }); }); };
  }

  var resizers = [];
  document.documentElement.setAttribute("data-charts-drawn", "0");
  document.querySelectorAll("figure.chart").forEach(function (fig) {
    try { resizers.push(draw(fig)); }
    catch (e) { fig.setAttribute("data-error", String(e)); report(fig.id + ": " + (e && e.stack || e)); }
  });
  var pending = 0;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(function () { resizers.forEach(function (f) { f(); }); }, 100);
  });
})();
