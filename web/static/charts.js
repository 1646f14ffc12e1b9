// Bar charts as inline SVG, drawn from data and sized to their container:
// horizontal bars for categories, vertical bars on a timeline for years.
// Each chart is one <svg role="img"> with a <title> and a <desc>, and one
// <rect class="bar" data-key data-value> per row with a nonzero value.

// The SVG namespace, as the HTML parser assigns it to an <svg> element.
const SVG_NS = new DOMParser().parseFromString('<svg></svg>', 'text/html').querySelector('svg').namespaceURI;

const FONT_SIZE = 13;
const DEFAULT_WIDTH = 640;

function s(tag, attrs, text) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v != null) el.setAttribute(k, String(v));
  }
  if (text != null) el.textContent = text;
  return el;
}

let measureCtx = null;
function textWidth(str) {
  if (!measureCtx) {
    measureCtx = document.createElement('canvas').getContext('2d');
  }
  if (!measureCtx) return str.length * FONT_SIZE * 0.6;
  measureCtx.font = `${FONT_SIZE}px ${getComputedStyle(document.body).fontFamily}`;
  return measureCtx.measureText(str).width;
}

// fit shortens str with an ellipsis until it is at most max pixels wide.
function fit(str, max) {
  if (textWidth(str) <= max) return str;
  let t = str;
  while (t.length > 1 && textWidth(t + '…') > max) t = t.slice(0, -1);
  return t + '…';
}

/**
 * mount draws a chart in container and draws it again when the
 * container's width changes. spec: {id, title, desc, kind: "bars" or
 * "timeline", rows: [{key, label, value, text}]}; rows with value 0 get no
 * bar. The chart is drawn before mount returns.
 */
export function mount(container, spec) {
  let drawn = 0;
  const draw = () => {
    const w = Math.round(container.clientWidth) || (drawn ? 0 : DEFAULT_WIDTH);
    if (!w || w === drawn) return;
    drawn = w;
    container.replaceChildren(spec.kind === 'timeline' ? timeline(spec, w) : bars(spec, w));
  };
  draw();
  const ro = new ResizeObserver(() => {
    if (!container.isConnected) {
      ro.disconnect();
      return;
    }
    draw();
  });
  ro.observe(container);
}

function root(spec, width, height) {
  const svg = s('svg', {
    role: 'img', class: 'chart-svg', width, height, viewBox: `0 0 ${width} ${height}`,
    'aria-labelledby': `${spec.id}-title ${spec.id}-desc`,
  });
  svg.append(s('title', { id: `${spec.id}-title` }, spec.title), s('desc', { id: `${spec.id}-desc` }, spec.desc));
  return svg;
}

function nothing(spec, width) {
  const svg = root(spec, width, 60);
  svg.append(s('text', { x: width / 2, y: 34, 'text-anchor': 'middle', class: 'empty' }, 'Nothing to show'));
  return svg;
}

// bars draws one horizontal bar per row, label on the left, value on the right.
function bars(spec, width) {
  const rows = spec.rows.filter((r) => r.value > 0);
  if (!rows.length) return nothing(spec, width);
  const ROW = 30;
  const BAR = 20;
  const TOP = 4;
  const valueW = Math.max(...rows.map((r) => textWidth(r.text))) + 10;
  // Labels get what they need, as long as bars keep 100 px or 38% of the width.
  const labelW = Math.min(Math.max(...rows.map((r) => textWidth(r.label))),
    Math.max(width * 0.38, width - valueW - 120));
  const x0 = labelW + 10;
  const avail = Math.max(20, width - x0 - valueW - 4);
  const max = Math.max(...rows.map((r) => r.value));
  const height = TOP * 2 + rows.length * ROW;
  const svg = root(spec, width, height);
  rows.forEach((r, i) => {
    const y = TOP + i * ROW + (ROW - BAR) / 2;
    const w = Math.max(2, (r.value / max) * avail);
    const mid = y + BAR / 2;
    svg.append(
      s('text', { x: labelW, y: mid, dy: '0.35em', 'text-anchor': 'end', class: 'label' }, fit(r.label, labelW)),
      s('rect', { x: x0, y, width: w.toFixed(1), height: BAR, rx: 3, class: 'bar', 'data-key': r.key, 'data-value': r.value }),
      s('text', { x: (x0 + w + 6).toFixed(1), y: mid, dy: '0.35em', class: 'value' }, r.text));
  });
  svg.append(s('line', { x1: x0, x2: x0, y1: 0, y2: height, class: 'axis' }));
  return svg;
}

// niceTicks gives 0 and evenly spaced round values up to at least max.
function niceTicks(max) {
  const target = max / 4;
  const mag = 10 ** Math.floor(Math.log10(Math.max(1, target)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((st) => st >= target) ?? mag * 10;
  const ticks = [];
  for (let t = 0; t < max + step; t += step) {
    ticks.push(t);
    if (t >= max) break;
  }
  return ticks;
}

// timeline draws one vertical bar per year present, on an axis spanning the
// first to the last year, so gaps between years show.
function timeline(spec, width) {
  const rows = spec.rows.filter((r) => r.value > 0 && Number.isFinite(Number(r.key)));
  if (!rows.length) return nothing(spec, width);
  const HEIGHT = 240;
  const PAD = { left: 36, right: 8, top: 22, bottom: 28 };
  const yearsOf = rows.map((r) => Number(r.key));
  const first = Math.min(...yearsOf);
  const last = Math.max(...yearsOf);
  const n = last - first + 1;
  const plotW = width - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / n;
  const barW = Math.max(2, Math.min(slot * 0.72, 48));
  const ticks = niceTicks(Math.max(...rows.map((r) => r.value)));
  const top = ticks[ticks.length - 1];
  const yOf = (v) => PAD.top + plotH * (1 - v / top);
  const svg = root(spec, width, HEIGHT);

  for (const t of ticks) {
    const y = yOf(t).toFixed(1);
    svg.append(
      s('line', { x1: PAD.left, x2: width - PAD.right, y1: y, y2: y, class: t === 0 ? 'axis' : 'grid' }),
      s('text', { x: PAD.left - 6, y, dy: '0.35em', 'text-anchor': 'end', class: 'tick' }, t.toLocaleString()));
  }
  const step = [1, 2, 5, 10, 20, 25, 50, 100].find((st) => st * slot >= 40) ?? 100;
  const labelled = [];
  for (let year = first; year <= last; year++) {
    if (year % step === 0) labelled.push(year);
  }
  if (!labelled.length) labelled.push(first);
  for (const year of labelled) {
    svg.append(s('text', {
      x: (PAD.left + (year - first + 0.5) * slot).toFixed(1), y: HEIGHT - PAD.bottom + 18,
      'text-anchor': 'middle', class: 'tick',
    }, String(year)));
  }
  for (const r of rows) {
    const cx = PAD.left + (Number(r.key) - first + 0.5) * slot;
    const y = yOf(r.value);
    svg.append(s('rect', {
      x: (cx - barW / 2).toFixed(1), y: y.toFixed(1), width: barW.toFixed(1), height: (PAD.top + plotH - y).toFixed(1),
      rx: Math.min(3, barW / 4), class: 'bar', 'data-key': r.key, 'data-value': r.value,
    }));
    if (slot >= 18) {
      svg.append(s('text', { x: cx.toFixed(1), y: (y - 5).toFixed(1), 'text-anchor': 'middle', class: 'value' }, r.text));
    }
  }
  return svg;
}
