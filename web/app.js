// evals ui: the web app over /api/v1 (Traces, Review, Runs). No framework and no build step.
// Every string from the API reaches the page as a text node or an attribute value, never as
// HTML, so trace content cannot inject markup.

const API = '/api/v1';
// Must match --row in app.css: lists reserve this much height per row they have not loaded yet.
const ROW = 44;
const PAGE_TRACES = 100;
const PAGE_CASES = 200;

// ---------------------------------------------------------------------------------------------
// API access

// The token arrives once as ?token=T; it is kept for the tab and taken out of the address bar.
const token = (() => {
  const url = new URL(location.href);
  const t = url.searchParams.get('token');
  if (t) {
    sessionStorage.setItem('evals-token', t);
    url.searchParams.delete('token');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
  }
  return sessionStorage.getItem('evals-token');
})();

class ApiError extends Error {
  constructor(status, body) {
    const e = body?.error ?? {};
    super(e.message ?? `the server answered ${status}`);
    this.status = status;
    this.code = e.code ?? 'internal';
    this.parameter = e.parameter ?? null;
  }
}

async function api(path, { method = 'GET', body, signal } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers['X-Evals-Token'] = token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(API + path, {
    method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = (res.headers.get('content-type') ?? '').includes('json') ? await res.json() : null;
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

// `{a: 'x', b: ['1', '2'], c: ''}` (or the same as entries) → `?a=x&b=1&b=2`; empty values are
// left out.
function query(params) {
  const q = new URLSearchParams();
  const entries = params instanceof URLSearchParams || Array.isArray(params) ? [...params] : Object.entries(params);
  for (const [k, v] of entries) {
    for (const one of [].concat(v)) if (one !== '' && one != null) q.append(k, one);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

const enc = encodeURIComponent;
let taxonomyPromise = null;
const taxonomy = () => (taxonomyPromise ??= api('/taxonomy').catch((e) => {
  taxonomyPromise = null;
  throw e;
}));

// ---------------------------------------------------------------------------------------------
// DOM helpers: elements from data, text always as text nodes.

function nodes(kids) {
  return kids.flat(Infinity).filter((k) => k != null && k !== false)
    .map((k) => (k instanceof Node ? k : document.createTextNode(String(k))));
}

function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'value' || k === 'checked' || k === 'selected') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  el.append(...nodes(kids));
  return el;
}

function svg(tag, attrs, ...kids) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs ?? {})) el.setAttribute(k, String(v));
  el.append(...nodes(kids));
  return el;
}

const $ = (sel, root = document) => root.querySelector(sel);

const fmt = {
  int: (n) => (n == null ? '–' : Number(n).toLocaleString('en-US')),
  time(t) {
    if (!t) return '–';
    const d = new Date(t);
    return Number.isNaN(d.getTime()) ? String(t) : d.toISOString().slice(0, 19).replace('T', ' ');
  },
  ms: (ms) => (ms == null ? '–' : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`),
  cost(c) {
    if (c == null) return '–';
    return c === 0 ? '$0' : c < 0.01 ? `$${c.toFixed(4)}` : `$${c.toFixed(2)}`;
  },
  pct: (p) => (p == null ? '–' : `${(p * 100).toFixed(1)}%`),
  score: (s) => (s == null ? '–' : Number(s).toFixed(3)),
};

const plural = (n, word) => `${fmt.int(n)} ${word}${n === 1 ? '' : 's'}`;
const badge = (text, tone) => h('span', { class: `badge ${tone ?? ''}` }, text);
const statusTone = (s) => ({ ok: 'ok', pass: 'ok', approved: 'ok', clean: 'ok', redacted: 'ok',
  error: 'bad', fail: 'bad', regressed: 'bad', errored: 'bad', pending: 'warn', flaky: 'warn' })[s];

function kv(pairs) {
  return h('dl', { class: 'kv' }, pairs.filter(([, v]) => v != null && v !== '')
    .map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
}

function pretty(text) {
  if (text == null) return '';
  if (typeof text !== 'string') return JSON.stringify(text, null, 2);
  try {
    const v = JSON.parse(text);
    return typeof v === 'object' && v !== null ? JSON.stringify(v, null, 2) : text;
  } catch {
    return text;
  }
}

// Redaction placeholders (`<EMAIL_1>`) marked inside a text.
function marked(text) {
  const out = [];
  let last = 0;
  for (const m of String(text ?? '').matchAll(/<[A-Z][A-Z_]*_\d+>/g)) {
    out.push(text.slice(last, m.index), h('mark', null, m[0]));
    last = m.index + m[0].length;
  }
  out.push(String(text ?? '').slice(last));
  return out;
}

function showAlert(err) {
  if (err?.name === 'AbortError') return;
  const el = $('#alert');
  const hint = err?.status === 401 ? ' Open this page with ?token=TOKEN (the one `evals ui --token` was given).' : '';
  el.replaceChildren(err instanceof ApiError ? `${err.message}${hint}` : `Error: ${err?.message ?? err}`);
  el.hidden = false;
  // A 400 names the parameter at fault: mark the field that sent it.
  const field = err?.parameter && document.querySelector(`#page [name="${CSS.escape(err.parameter)}"]`);
  if (field) {
    field.setAttribute('aria-invalid', 'true');
    field.setAttribute('aria-errormessage', 'alert');
  }
}
function hideAlert() {
  $('#alert').hidden = true;
}
// Runs an async action, reporting its failure in the page's alert.
const guard = (p) => p.catch(showAlert);

// ---------------------------------------------------------------------------------------------
// Routing by the URL hash: #/page/id?params

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const at = raw.indexOf('?');
  const path = at < 0 ? raw : raw.slice(0, at);
  const parts = path.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p; // a hand-typed address with a stray %
    }
  });
  return { page: parts[0] ?? 'traces', id: parts[1] ?? null, params: new URLSearchParams(at < 0 ? '' : raw.slice(at + 1)) };
}

const href = (page, id, params) => `#/${page}${id ? `/${enc(id)}` : ''}${query(params ?? {})}`;

let active = null; // the mounted page: {name, key, ctrl}

function route() {
  const r = parseHash();
  const name = pages[r.page] ? r.page : 'traces';
  const page = pages[name];
  for (const a of document.querySelectorAll('.top nav a')) {
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const key = page.key(r);
  if (!active || active.name !== name || active.key !== key) {
    const changedPage = active != null && active.name !== name;
    active?.ctrl.abort();
    closeDrawer(false);
    hideAlert();
    active = { name, key, ctrl: new AbortController() };
    const main = $('#page');
    main.replaceChildren();
    page.mount(main, r, active.ctrl.signal);
    if (changedPage) window.scrollTo(0, 0);
  }
  page.detail(r, active.ctrl.signal);
}

// ---------------------------------------------------------------------------------------------
// Drawer: a dialog over the list; Esc or Close goes back to the list's address.

let drawer = null;

function openDrawer(title, closeHref) {
  if (!drawer) {
    const back = h('div', { class: 'drawer-back', onclick: () => { location.hash = drawer.closeHref; } });
    const el = h('section', { class: 'drawer', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'drawer-title', tabindex: '-1' });
    drawer = { el, back, returnFocus: document.activeElement };
    $('#drawer-root').replaceChildren(back, el);
  }
  drawer.closeHref = closeHref;
  const body = h('div', { class: 'drawer-body' }, h('p', { class: 'muted' }, 'Loading…'));
  drawer.el.replaceChildren(
    h('div', { class: 'drawer-head' },
      h('h2', { id: 'drawer-title' }, title),
      h('button', { type: 'button', onclick: () => { location.hash = drawer.closeHref; }, 'aria-label': 'Close (Esc)' }, 'Close')),
    body);
  drawer.el.scrollTop = 0;
  drawer.el.focus();
  return body;
}

// Tab and Shift+Tab cycle inside the open drawer (it is modal).
function keepFocusIn(box, e) {
  const focusable = [...box.querySelectorAll('a[href], button:not([disabled]), input, select, textarea, summary')]
    .filter((el) => el.getClientRects().length);
  if (!focusable.length) return;
  const first = focusable[0];
  const last = focusable[focusable.length - 1];
  const at = document.activeElement;
  if (e.shiftKey && (at === first || at === box)) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && (at === last || !box.contains(at))) {
    e.preventDefault();
    first.focus();
  }
}

function closeDrawer(restoreFocus = true) {
  if (!drawer) return;
  const { returnFocus } = drawer;
  $('#drawer-root').replaceChildren();
  drawer = null;
  if (restoreFocus && returnFocus?.isConnected) returnFocus.focus();
}

// ---------------------------------------------------------------------------------------------
// Lazy list: pages fetched by cursor as the end comes into view. Rows have a fixed height and
// the rows not loaded yet are reserved by a spacer, so loading more never moves the page.

let firstRowMarked = false;

function lazyList({ cls, columns, load, row, empty, signal, first }) {
  const rows = h('div', { role: 'rowgroup' });
  // The reserve for rows not loaded yet: empty, so that nothing visible moves as it shrinks.
  const spacer = h('div', { 'aria-hidden': 'true' });
  // Hidden until its first rows are in: a list that appears whole shifts nothing above it.
  const el = h('div', { class: `list ${cls}`, role: 'table', hidden: true },
    h('div', { class: 'head', role: 'row' }, columns.map(([label, c]) => h('span', { role: 'columnheader', class: c }, label))),
    rows, spacer);
  let cursor = null;
  let done = false;
  let loading = false;
  let count = 0;
  let total = null;
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) guard(more());
  }, { rootMargin: '800px 0px' });
  signal.addEventListener('abort', () => observer.disconnect());

  async function more(given) {
    if (loading || done) return;
    loading = true;
    try {
      const page = given ?? await load(cursor, signal);
      if (page.total != null) total = page.total;
      const els = page.items.map(row);
      rows.append(...els);
      count += els.length;
      cursor = page.next ?? null;
      done = !cursor;
      el.hidden = false;
      if (count > 0 && !firstRowMarked) {
        firstRowMarked = true;
        performance.mark('evals:first-row');
      }
    } finally {
      loading = false;
    }
    if (done) {
      spacer.style.height = '';
      if (count === 0) spacer.replaceChildren(h('div', { class: 'empty' }, empty));
      observer.disconnect();
    } else {
      const left = total == null ? 1 : Math.max(1, total - count);
      spacer.style.height = `${left * ROW}px`;
      // Observing again reports the spacer at once if it is still in view.
      observer.unobserve(spacer);
      observer.observe(spacer);
    }
  }
  guard(more(first));
  return el;
}

// ---------------------------------------------------------------------------------------------
// Charts (inline SVG)

const CHART_H = 140; // as .chart svg's height in app.css

// A chart drawn at its box's width in pixels (text in the SVG keeps its size), drawn again when
// the width changes. `draw(width)` returns the SVG, or null while there is nothing to draw.
function fitChart(box, draw, signal) {
  let width = 0;
  const redraw = () => {
    const el = width ? draw(width) : null;
    box.replaceChildren(el ?? svg('svg', { 'aria-hidden': 'true' }));
  };
  const observer = new ResizeObserver(() => {
    const w = Math.round(box.clientWidth);
    if (w && w !== width) {
      width = w;
      redraw();
    }
  });
  observer.observe(box);
  signal.addEventListener('abort', () => observer.disconnect());
  redraw();
  return redraw;
}

function barChart(buckets, metric, bucketSeconds, W) {
  const values = buckets.map(metric.value);
  const max = Math.max(0, ...values.flat().filter((v) => v != null));
  const top = max || 1;
  const pad = { l: 44, b: 18, t: 8 };
  const w = (W - pad.l) / Math.max(1, buckets.length);
  const y = (v) => CHART_H - pad.b - ((CHART_H - pad.b - pad.t) * v) / top;
  const g = svg('svg', { viewBox: `0 0 ${W} ${CHART_H}`, role: 'img', 'aria-label': `${metric.label} per ${bucketSeconds} s bucket` });
  g.append(svg('line', { class: 'grid', x1: pad.l, x2: W, y1: y(top), y2: y(top) }),
    svg('line', { class: 'grid', x1: pad.l, x2: W, y1: y(0), y2: y(0) }),
    svg('text', { class: 'axis', x: 2, y: y(top) + 10 }, metric.format(max)),
    svg('text', { class: 'axis', x: 2, y: y(0) }, metric.format(0)));
  buckets.forEach((b, i) => {
    const parts = [].concat(values[i]);
    parts.forEach((v, j) => {
      if (v == null) return;
      const cls = metric.classes?.[j] ?? 'bar';
      g.append(svg('rect', { class: cls, x: pad.l + i * w + 1, width: Math.max(1, w - 2), y: y(v), height: Math.max(0, y(0) - y(v)) },
        svg('title', null, `${fmt.time(b.start)} · ${metric.tip(b)}`)));
    });
  });
  if (buckets.length) g.append(svg('text', { class: 'axis', x: pad.l, y: CHART_H - 4 }, fmt.time(buckets[0].start)));
  if (buckets.length > 1) g.append(svg('text', { class: 'axis', x: W, y: CHART_H - 4, 'text-anchor': 'end' }, fmt.time(buckets[buckets.length - 1].start)));
  return g;
}

function trendChart(points, W) {
  const pad = { l: 44, b: 18, t: 8, r: 8 };
  const n = points.length;
  const x = (i) => pad.l + (n < 2 ? (W - pad.l - pad.r) / 2 : ((W - pad.l - pad.r) * i) / (n - 1));
  const y = (v) => CHART_H - pad.b - (CHART_H - pad.b - pad.t) * v;
  const g = svg('svg', { viewBox: `0 0 ${W} ${CHART_H}`, role: 'img', 'aria-label': 'pass rate of the suite’s runs, oldest first' });
  g.append(svg('line', { class: 'grid', x1: pad.l, x2: W, y1: y(1), y2: y(1) }),
    svg('line', { class: 'grid', x1: pad.l, x2: W, y1: y(0), y2: y(0) }),
    svg('text', { class: 'axis', x: 2, y: y(1) + 10 }, '100%'),
    svg('text', { class: 'axis', x: 2, y: y(0) }, '0%'));
  const rate = (p) => p.pass_rate ?? 0;
  if (n > 1) g.append(svg('polyline', { class: 'line', points: points.map((p, i) => `${x(i)},${y(rate(p))}`).join(' ') }));
  points.forEach((p, i) => g.append(svg('circle', { class: 'dot', cx: x(i), cy: y(rate(p)), r: 4 },
    svg('title', null, `${p.run_id} · ${fmt.time(p.started_at)} · ${fmt.pct(p.pass_rate)}`))));
  if (n) g.append(svg('text', { class: 'axis', x: pad.l, y: CHART_H - 4 }, fmt.time(points[0].started_at)));
  if (n > 1) g.append(svg('text', { class: 'axis', x: W - pad.r, y: CHART_H - 4, 'text-anchor': 'end' }, fmt.time(points[n - 1].started_at)));
  return g;
}

// ---------------------------------------------------------------------------------------------
// Responses items, as the trace and the case files hold them

function contentText(content) {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return pretty(content);
  return content.map((p) => p?.text ?? p?.refusal ?? pretty(p)).join('\n');
}

function itemView(item, mark = (t) => t) {
  if (item == null) return null;
  if (typeof item === 'string') return h('pre', null, mark(item));
  const type = item.type ?? (item.role ? 'message' : 'item');
  if (type === 'message' || item.role) {
    return h('div', null, h('span', { class: 'item-role' }, item.role ?? 'message'), h('pre', null, mark(contentText(item.content))));
  }
  if (type === 'function_call') {
    return h('div', null, h('span', { class: 'item-role' }, `call ${item.name ?? ''}`), h('pre', null, mark(pretty(item.arguments))));
  }
  if (type === 'function_call_output') {
    return h('div', null, h('span', { class: 'item-role' }, `tool output${item.call_id ? ` (${item.call_id})` : ''}`), h('pre', null, mark(pretty(item.output))));
  }
  return h('div', null, h('span', { class: 'item-role' }, type), h('pre', null, mark(pretty(item))));
}

function toolCallsView(calls, mark) {
  if (!calls?.length) return null;
  return h('div', null, h('h3', null, 'Tool calls'), calls.map((c) => h('div', null,
    h('span', { class: 'item-role' }, c.name), h('pre', null, (mark ?? String)(pretty(c.arguments))),
    c.output != null ? h('pre', null, '→ ', (mark ?? String)(pretty(c.output))) : null)));
}

function findingsView(findings) {
  if (!findings?.length) return h('p', { class: 'muted' }, 'No privacy findings.');
  return h('ul', { class: 'findings' }, findings.map((f) => h('li', null,
    badge(f.kind, 'warn'), ' ', h('code', null, f.location),
    (f.snippets ?? []).map((s) => h('div', { class: 'snippet' }, s.before, h('mark', null, s.placeholder), s.after)))));
}

// The taxonomy as a tree of <option>s, children indented under their parent.
async function failureOptions(selected) {
  const tax = await taxonomy();
  const cats = tax.categories ?? [];
  const kids = new Map();
  for (const c of cats) {
    const p = cats.some((o) => o.id === c.parent) ? c.parent : null;
    if (!kids.has(p)) kids.set(p, []);
    kids.get(p).push(c);
  }
  const out = [h('option', { value: '' }, '— none —')];
  const walk = (parent, depth) => {
    for (const c of kids.get(parent) ?? []) {
      out.push(h('option', { value: c.id, title: c.description ?? '', selected: c.id === selected }, `${'\u00a0\u00a0\u00a0'.repeat(depth)}${c.id}`));
      walk(c.id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

function verdictSelect(name, value) {
  return h('select', { name }, ['', 'pass', 'fail', 'unknown'].map((v) => h('option', { value: v, selected: v === (value ?? '') }, v || '—')));
}

const lines = (text) => String(text ?? '').split('\n').map((s) => s.trim()).filter(Boolean);
const list = (text) => String(text ?? '').split(',').map((s) => s.trim()).filter(Boolean);

// The expectation fields, the case file's `expected` keys.
function expectedFields(exp = {}) {
  return [
    h('label', { class: 'wide' }, 'Reference answer', h('textarea', { name: 'reference' }, exp.reference ?? '')),
    h('label', null, 'Must contain (one per line)', h('textarea', { name: 'contains' }, (exp.contains ?? []).join('\n'))),
    h('label', null, 'Must not contain (one per line)', h('textarea', { name: 'not_contains' }, (exp.not_contains ?? []).join('\n'))),
    h('label', null, 'Tools it must call (comma-separated)', h('input', { name: 'tools_required', value: (exp.tools_required ?? []).join(', ') })),
    h('label', null, 'Tools it must not call', h('input', { name: 'tools_forbidden', value: (exp.tools_forbidden ?? []).join(', ') })),
  ];
}

function expectedFrom(form) {
  const f = new FormData(form);
  const exp = {
    contains: lines(f.get('contains')), not_contains: lines(f.get('not_contains')),
    tools_required: list(f.get('tools_required')), tools_forbidden: list(f.get('tools_forbidden')),
  };
  const ref = String(f.get('reference') ?? '').trim();
  if (ref) exp.reference = ref;
  return exp;
}

// ---------------------------------------------------------------------------------------------
// Traces

const TRACE_FILTERS = ['q', 'workflow', 'agent', 'model', 'provider', 'status', 'group', 'since', 'until'];

function traceFilters(params) {
  const out = new URLSearchParams();
  for (const k of TRACE_FILTERS) if (params.get(k)) out.set(k, params.get(k));
  for (const m of params.getAll('meta')) if (m) out.append('meta', m);
  return out;
}

const METRICS = {
  cost: { label: 'Cost', value: (b) => b.cost_usd ?? 0, format: fmt.cost, tip: (b) => `${fmt.cost(b.cost_usd)} · ${b.traces} traces` },
  calls: { label: 'Model calls', value: (b) => b.calls, format: fmt.int, tip: (b) => `${fmt.int(b.calls)} calls · ${b.traces} traces` },
  errors: { label: 'Errors', value: (b) => b.errors, format: fmt.int, classes: ['bar err'], tip: (b) => `${fmt.int(b.errors)} errors · ${b.traces} traces` },
  latency: {
    label: 'Latency p50 / p95', value: (b) => [b.latency_p95_ms, b.latency_p50_ms], format: fmt.ms,
    classes: ['bar p95', 'bar'], tip: (b) => `p50 ${fmt.ms(b.latency_p50_ms)} · p95 ${fmt.ms(b.latency_p95_ms)}`,
  },
};

const tracesPage = {
  key: (r) => traceFilters(r.params).toString(),

  mount(main, r, signal) {
    const f = traceFilters(r.params);
    const field = (name, label, attrs = {}) => h('label', { class: name === 'q' ? 'q' : null }, label,
      h('input', { name, value: f.get(name) ?? '', ...attrs }));
    const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Trace filters' },
      field('q', 'Search the model input and output', { type: 'search', placeholder: 'words, all required' }),
      field('workflow', 'Workflow'), field('agent', 'Agent'), field('model', 'Model'), field('provider', 'Provider'),
      h('label', null, 'Status', h('select', { name: 'status' }, ['', 'ok', 'error'].map((s) => h('option', { value: s, selected: f.get('status') === s }, s || 'any')))),
      field('group', 'Group'),
      field('meta', 'Metadata (key=value, comma-separated)', { value: f.getAll('meta').join(', ') }),
      field('since', 'Since (24h, 7d or a date)'), field('until', 'Until'),
      h('div', { class: 'row-actions' }, h('button', { class: 'primary', type: 'submit' }, 'Apply'),
        h('button', { type: 'button', onclick: () => { location.hash = '#/traces'; } }, 'Clear')));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const data = new FormData(form);
      const params = {};
      for (const k of TRACE_FILTERS) params[k] = String(data.get(k) ?? '').trim();
      params.meta = list(data.get('meta'));
      location.hash = href('traces', null, params);
    });
    form.querySelector('select').addEventListener('change', () => form.requestSubmit());

    const totals = h('p', { class: 'totals', 'aria-live': 'polite' }, '\u00a0');
    const chartBody = h('div');
    const metricButtons = Object.entries(METRICS).map(([k, m]) => h('button', { type: 'button', 'aria-pressed': String(k === 'cost'), 'data-metric': k }, m.label));
    const chart = h('section', { class: 'chart', 'aria-label': 'Traces over time' },
      h('div', { class: 'chart-head' }, h('strong', null, 'Over time'), metricButtons), chartBody);
    let stats = null;
    let metric = 'cost';
    const drawChart = fitChart(chartBody, (width) => {
      if (!stats) return null;
      return stats.buckets.length ? barChart(stats.buckets, METRICS[metric], stats.bucket_seconds, width)
        : h('p', { class: 'muted' }, 'No traces in this range.');
    }, signal);
    for (const b of metricButtons) {
      b.addEventListener('click', () => {
        metric = b.dataset.metric;
        for (const o of metricButtons) o.setAttribute('aria-pressed', String(o === b));
        drawChart();
      });
    }
    const back = query(f);
    guard(api(`/traces/stats${back}`, { signal }).then((s) => {
      stats = s;
      // Nothing priced (models without a price): open on model calls rather than a flat $0.
      if (!s.buckets.some((b) => b.cost_usd)) metricButtons.find((b) => b.dataset.metric === 'calls').click();
      else drawChart();
    }));

    const table = lazyList({
      cls: 'traces', signal, empty: 'No trace matches these filters.',
      columns: [['Started (UTC)'], ['Workflow'], ['Agents', 'hide-narrow'], ['Model', 'hide-narrow'], ['Tokens', 'num hide-narrow'], ['Cost', 'num hide-narrow'], ['Latency', 'num'], ['Status']],
      async load(cursor) {
        const page = await api(`/traces${query([...f, ['limit', PAGE_TRACES], ['cursor', cursor ?? '']])}`, { signal });
        if (!cursor) totals.replaceChildren(totalsLine(page.totals));
        return { items: page.traces, next: page.next_cursor, total: page.totals?.traces };
      },
      row: (t) => h('a', { class: 'item', role: 'row', href: `#/traces/${enc(t.id)}${back}`, 'data-id': t.id },
        h('span', { role: 'cell', class: 'mono', title: t.id }, fmt.time(t.started_at)),
        h('span', { role: 'cell', title: t.workflow ?? '' }, t.workflow ?? '–'),
        h('span', { role: 'cell', class: 'hide-narrow' }, (t.agents ?? []).join(', ') || '–'),
        h('span', { role: 'cell', class: 'hide-narrow' }, (t.models ?? []).join(', ') || '–'),
        h('span', { role: 'cell', class: 'num hide-narrow' }, fmt.int((t.input_tokens ?? 0) + (t.output_tokens ?? 0))),
        h('span', { role: 'cell', class: 'num hide-narrow' }, fmt.cost(t.cost_usd)),
        h('span', { role: 'cell', class: 'num' }, fmt.ms(t.duration_ms)),
        h('span', { role: 'cell' }, badge(t.status, statusTone(t.status)))),
    });
    main.append(h('h1', null, 'Traces'), form, totals, chart, table);
  },

  detail(r, signal) {
    if (r.id) guard(openTrace(r.id, href('traces', null, traceFilters(r.params)), signal));
    else closeDrawer();
  },
};

function totalsLine(t) {
  if (!t) return '';
  const unpriced = t.unpriced ? ` (+${fmt.int(t.unpriced)} unpriced)` : '';
  return `${plural(t.traces, 'trace')} · ${fmt.int(t.input_tokens)} in / ${fmt.int(t.output_tokens)} out tokens · ${fmt.cost(t.cost_usd)}${unpriced} · latency p50 ${fmt.ms(t.latency_p50_ms)}, p95 ${fmt.ms(t.latency_p95_ms)}`;
}

async function openTrace(id, closeHref, signal) {
  const body = openDrawer(`Trace ${id}`, closeHref);
  let data;
  try {
    data = await api(`/traces/${enc(id)}`, { signal });
  } catch (e) {
    body.replaceChildren(h('p', { class: 'bad', role: 'alert' }, e.message));
    return;
  }
  if (!body.isConnected) return; // closed, or another trace opened, while this one loaded
  const t = data.trace;
  $('#drawer-title').replaceChildren(t.workflow ?? 'Trace');
  body.replaceChildren(
    kv([['Trace', h('code', null, t.id)], ['Started', fmt.time(t.started_at)], ['Duration', fmt.ms(t.duration_ms)],
      ['Status', badge(t.status, statusTone(t.status))], ['Agents', (t.agents ?? []).join(', ')], ['Models', (t.models ?? []).join(', ')],
      ['Tokens', `${fmt.int(t.input_tokens)} in / ${fmt.int(t.output_tokens)} out`], ['Cost', fmt.cost(t.cost_usd)],
      ['Group', t.group_id], ['Errors', t.errors ? String(t.errors) : null]]),
    h('h3', null, 'Timeline'),
    h('ol', { class: 'timeline' }, (data.timeline ?? []).map(eventView)),
    promoteForm(t));
}

function eventView(ev) {
  const dur = ev.duration_ms != null ? ` · ${fmt.ms(ev.duration_ms)}` : '';
  const err = ev.error ? h('pre', { class: 'bad' }, `error: ${ev.error}`) : null;
  const head = [h('span', { class: 'kind' }, ev.kind), ev.name ?? ''];
  let summary = head;
  let details = [];
  if (ev.kind === 'model') {
    const u = ev.usage ?? {};
    const attempts = ev.attempts ?? [];
    summary = [...head, `${ev.model && ev.model !== ev.name ? ` ${ev.model}` : ''} · ${fmt.int(u.input_tokens)} in / ${fmt.int(u.output_tokens)} out${dur}`,
      ev.attempt > 1 ? [' ', badge(`retry ${ev.attempt - 1}`, 'warn')] : null,
      attempts.length > 1 ? [' ', badge(`${attempts.length} HTTP attempts`, 'warn')] : null];
    details = [attempts.length > 1 ? [h('h3', null, 'Attempts'), h('ol', null, attempts.map((a) => h('li', null,
      [a.status ?? 'no answer', a.latency_ms != null ? fmt.ms(a.latency_ms) : null, a.error_type, a.code, a.message].filter((x) => x != null && x !== '').join(' · '))))] : null,
      ev.instructions ? [h('h3', null, 'Instructions'), h('pre', null, ev.instructions)] : null,
      h('h3', null, 'Input'), (ev.input ?? []).map((i) => itemView(i)),
      h('h3', null, 'Output'), (ev.output ?? []).map((i) => itemView(i))];
  } else if (ev.kind === 'tool') {
    summary = [...head, dur];
    details = [h('h3', null, 'Arguments'), h('pre', null, pretty(ev.arguments)),
      h('h3', null, 'Output'), ev.output == null ? h('p', { class: 'muted' }, 'not recorded') : h('pre', null, pretty(ev.output))];
  } else if (ev.kind === 'handoff') {
    summary = [...head, ` ${ev.from ?? '?'} → ${ev.to ?? '?'}${dur}`];
  } else if (ev.kind === 'agent') {
    summary = [...head, dur];
    const extra = [ev.tools?.length ? `tools: ${ev.tools.join(', ')}` : null, ev.handoffs?.length ? `handoffs: ${ev.handoffs.join(', ')}` : null].filter(Boolean);
    if (extra.length) summary.push(h('span', { class: 'muted' }, ` (${extra.join('; ')})`));
  } else {
    summary = [...head, dur];
  }
  const cls = `event ${ev.kind}${ev.error ? ' has-error' : ''}`;
  const style = `--depth:${Math.min(12, Number(ev.depth) || 0)}`;
  if (!details.length) return h('li', { class: cls, style }, h('div', null, summary), err);
  return h('li', { class: cls, style }, h('details', null, h('summary', null, summary), details), err);
}

function promoteForm(trace) {
  const result = h('div', { 'aria-live': 'polite' });
  const failure = h('select', { name: 'failure' }, h('option', { value: '' }, '— none —'));
  const verdict = verdictSelect('verdict', '');
  guard(failureOptions('').then((opts) => failure.replaceChildren(...opts)));
  // A failure category implies the verdict fail, as `evals promote --failure` does.
  failure.addEventListener('change', () => { if (failure.value) verdict.value = 'fail'; });
  const datasets = h('datalist', { id: 'datasets' });
  guard(api('/cases').then((d) => datasets.replaceChildren(
    ...[...new Set((d.cases ?? []).map((c) => c.dataset))].sort().map((n) => h('option', { value: n })))));
  const form = h('form', { class: 'form', 'aria-label': 'Promote this trace to an eval case' },
    h('label', null, 'Dataset', h('input', { name: 'dataset', required: true, list: 'datasets', value: localStorage.getItem('evals-dataset') ?? 'default' })), datasets,
    h('label', null, 'Verdict', verdict),
    h('label', null, 'Failure (taxonomy)', failure),
    h('label', { class: 'wide' }, 'Note', h('textarea', { name: 'note' })),
    expectedFields(),
    h('div', { class: 'row-actions wide' }, h('button', { class: 'primary', type: 'submit' }, 'Promote')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const body = { dataset: String(f.get('dataset')).trim() };
    if (f.get('verdict')) body.verdict = f.get('verdict');
    if (f.get('failure')) body.failure = f.get('failure');
    if (String(f.get('note')).trim()) body.note = String(f.get('note')).trim();
    const exp = expectedFrom(form);
    if (Object.values(exp).some((v) => (Array.isArray(v) ? v.length : v))) body.expected = exp;
    localStorage.setItem('evals-dataset', body.dataset);
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    api(`/traces/${enc(trace.id)}/promote`, { method: 'POST', body })
      .then((res) => { result.replaceChildren(promoted(res)); refreshPending(); })
      .catch((err) => result.replaceChildren(h('p', { class: 'bad', role: 'alert' }, err.message)))
      .finally(() => { button.disabled = false; });
  });
  return h('section', { class: 'panel', id: 'promote' }, h('h3', null, 'Promote to an eval case'), form, result);
}

function promoted(res) {
  const c = res.case;
  const status = c.case?.privacy?.status ?? 'clean';
  return h('div', { class: 'promoted' },
    h('p', null, 'Wrote ', h('code', null, c.path), ' · privacy ', badge(status, statusTone(status))),
    res.duplicate_of ? h('p', { class: 'warn' }, `A similar case already exists: ${res.duplicate_of}`) : null,
    (res.warnings ?? []).map((w) => h('p', { class: 'warn' }, w)),
    findingsView(c.findings),
    status === 'pending' ? h('p', null, h('a', { href: href('review', c.case.id, { dataset: c.dataset }) }, 'Review it')) : null);
}

// ---------------------------------------------------------------------------------------------
// Review

async function refreshPending() {
  try {
    const d = await api('/cases?status=pending');
    $('#pending-count').replaceChildren(d.cases.length ? String(d.cases.length) : '');
  } catch {
    // the count is a hint; the Review page reports errors itself
  }
}

const review = { queue: [], ready: null, current: null, confirmReject: false };

const reviewPage = {
  key: (r) => query({ status: r.params.get('status') ?? '', dataset: r.params.get('dataset') ?? '' }),

  mount(main, r, signal) {
    const status = r.params.get('status') ?? 'pending';
    const dataset = r.params.get('dataset') ?? '';
    const queue = h('div', { class: 'list queue', role: 'list', 'aria-label': 'Cases' }, h('div', { class: 'more' }, 'Loading…'));
    const detail = h('div', { class: 'detail', id: 'review-detail' }, h('p', { class: 'muted' }, 'Pick a case (j / k).'));
    const statusSel = h('select', { name: 'status' }, ['pending', 'approved', 'redacted', 'clean', 'rejected', ''].map((s) => h('option', { value: s, selected: (s || 'any') === status }, s || 'any')));
    statusSel.addEventListener('change', () => { location.hash = href('review', null, { status: statusSel.value || 'any', dataset }); });
    main.append(h('h1', null, 'Review'),
      h('p', { class: 'kbd-help' }, h('kbd', null, 'j'), ' / ', h('kbd', null, 'k'), ' next / previous · ', h('kbd', null, 'a'), ' approve · ', h('kbd', null, 'r'), ' reject (twice)'),
      h('div', { class: 'review' }, h('div', { class: 'queue-col' }, h('label', null, 'Privacy status', statusSel), queue), detail));
    const wanted = status === 'any' ? '' : status;
    review.ready = api(`/cases${query({ status: wanted, dataset })}`, { signal }).then((d) => {
      review.queue = d.cases ?? [];
      drawQueue();
    });
    guard(review.ready);
  },

  detail(r, signal) {
    guard(review.ready.then(() => {
      review.confirmReject = false;
      const id = r.id;
      $('.review')?.classList.toggle('has-case', Boolean(id));
      markCurrent(id);
      if (id) return showCase(id, r.params.get('dataset') ?? queueEntry(id)?.dataset, signal);
      review.current = null;
      $('#review-detail')?.replaceChildren(h('p', { class: 'muted' }, review.queue.length ? 'Pick a case (j / k).' : 'Nothing to review.'));
      return null;
    }));
  },

  keys(e) {
    const r = parseHash();
    const i = review.queue.findIndex((c) => c.id === r.id);
    if (e.key === 'j' || e.key === 'k') {
      const next = review.queue[e.key === 'j' ? i + 1 : Math.max(0, i - 1)];
      if (next) location.hash = reviewHref(r, next.id);
    } else if (e.key === 'a' && review.current) {
      approveCurrent();
    } else if (e.key === 'r' && review.current) {
      rejectCurrent();
    } else {
      return false;
    }
    return true;
  },
};

const queueEntry = (id) => review.queue.find((c) => c.id === id);
const reviewHref = (r, id) => href('review', id, { status: r.params.get('status') ?? '', dataset: r.params.get('dataset') ?? '' });

function drawQueue() {
  const el = $('.queue');
  if (!el) return;
  const r = parseHash();
  if (!review.queue.length) {
    el.replaceChildren(h('div', { class: 'empty' }, 'Nothing to review.'));
  } else {
    el.replaceChildren(...review.queue.map((c) => h('a', { class: 'item', role: 'listitem', href: reviewHref(r, c.id), 'data-id': c.id },
      h('span', { title: c.path }, c.id, h('br'), h('small', { class: 'muted' }, `${c.dataset} · ${plural(c.findings, 'finding')}`)),
      h('span', null, badge(c.privacy_status, statusTone(c.privacy_status))))));
  }
  refreshPending();
  markCurrent(r.id);
}

function markCurrent(id) {
  for (const a of document.querySelectorAll('.queue .item')) {
    if (a.dataset.id === id) {
      a.setAttribute('aria-current', 'true');
      a.scrollIntoView({ block: 'nearest' });
    } else {
      a.removeAttribute('aria-current');
    }
  }
}

async function showCase(id, dataset, signal) {
  const detail = $('#review-detail');
  const data = await api(`/cases/${enc(id)}${query({ dataset: dataset ?? '' })}`, { signal });
  review.current = data;
  drawCase(detail, data);
}

function drawCase(detail, data) {
  const c = data.case;
  const label = c.label ?? {};
  const privacy = c.privacy ?? {};
  const mark = marked;
  const conflict = h('div', { 'aria-live': 'assertive' });
  const reviewer = h('input', { name: 'reviewer', value: localStorage.getItem('evals-reviewer') ?? '', placeholder: 'default: git config user.name' });
  reviewer.addEventListener('input', () => localStorage.setItem('evals-reviewer', reviewer.value.trim()));

  const labelForm = h('form', { class: 'form', 'aria-label': 'Label' },
    h('label', null, 'Verdict', verdictSelect('verdict', label.verdict)),
    h('label', null, 'Failure (taxonomy)', h('select', { name: 'failure' }, h('option', { value: label.failure ?? '' }, label.failure ?? '— none —'))),
    h('label', { class: 'wide' }, 'Note', h('textarea', { name: 'note' }, label.note ?? '')),
    h('div', { class: 'row-actions wide' }, h('button', { type: 'submit' }, 'Save label')));
  guard(failureOptions(label.failure ?? '').then((opts) => labelForm.elements.failure.replaceChildren(...opts)));
  labelForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const f = new FormData(labelForm);
    caseWrite('label', { verdict: f.get('verdict') || undefined, failure: String(f.get('failure')), note: String(f.get('note')) });
  });

  const expForm = h('form', { class: 'form', 'aria-label': 'Expectations' }, expectedFields(c.expected ?? {}),
    h('div', { class: 'row-actions wide' }, h('button', { type: 'submit' }, 'Save expectations')));
  expForm.addEventListener('submit', (e) => {
    e.preventDefault();
    caseWrite('expected', { expected: expectedFrom(expForm) });
  });

  const rec = c.recorded?.output ?? {};
  detail.replaceChildren(
    h('a', { class: 'back-queue', href: reviewHref(parseHash(), null) }, '← Queue'),
    h('h2', null, c.id),
    kv([['File', h('code', null, data.path)], ['Dataset', data.dataset], ['Privacy', badge(privacy.status ?? 'clean', statusTone(privacy.status))],
      ['Verdict', label.verdict], ['Failure', label.failure], ['Trace', c.source?.trace_id ? h('a', { href: href('traces', c.source.trace_id) }, c.source.trace_id) : null],
      ['Reviewer', privacy.reviewer]]),
    conflict,
    h('div', { class: 'row-actions' },
      h('label', null, 'Reviewer', reviewer),
      h('button', { class: 'primary', type: 'button', id: 'approve', onclick: approveCurrent }, 'Approve (a)'),
      h('button', { class: 'danger', type: 'button', id: 'reject', onclick: rejectCurrent }, 'Reject (r)')),
    h('section', { class: 'panel' }, h('h3', null, 'Privacy findings'), findingsView(data.findings)),
    h('section', { class: 'panel' }, h('h3', null, 'Input'),
      c.input?.instructions ? [h('span', { class: 'item-role' }, 'instructions'), h('pre', null, mark(c.input.instructions))] : null,
      (c.input?.items ?? []).map((i) => itemView(i, mark))),
    h('section', { class: 'panel' }, h('h3', null, 'Recorded output'),
      rec.text != null ? h('pre', null, mark(rec.text)) : h('p', { class: 'muted' }, 'no text'), toolCallsView(rec.tool_calls, mark)),
    h('section', { class: 'panel' }, h('h3', null, 'Label'), labelForm),
    h('section', { class: 'panel' }, h('h3', null, 'Expectations'), expForm));
}

// A write on the current case, with its etag; a 409 means someone changed the file meanwhile.
async function caseWrite(action, body) {
  const cur = review.current;
  if (!cur) return null;
  const id = cur.case.id;
  const path = action === 'expected' ? `/cases/${enc(id)}/expected` : `/cases/${enc(id)}/${action}`;
  try {
    const res = await api(path, { method: action === 'expected' ? 'PUT' : 'POST', body: { etag: cur.etag, ...body } });
    if (res?.case) {
      review.current = res;
      const entry = queueEntry(id);
      if (entry) Object.assign(entry, { etag: res.etag, privacy_status: res.case.privacy?.status ?? entry.privacy_status });
      drawCase($('#review-detail'), res);
      flash(`Saved ${action === 'expected' ? 'expectations' : action === 'label' ? 'label' : action} of ${id}`);
    }
    return res;
  } catch (err) {
    if (err.status === 409) {
      const box = $('#review-detail [aria-live=assertive]');
      box?.replaceChildren(h('div', { class: 'alert', role: 'alert' }, 'This case changed on disk since you opened it; nothing was written. ',
        h('button', { type: 'button', onclick: () => guard(showCase(id, cur.dataset)) }, 'Reload')));
      return null;
    }
    showAlert(err);
    return null;
  }
}

function flash(text) {
  const box = $('#review-detail [aria-live=assertive]');
  box?.replaceChildren(h('p', { class: 'ok' }, text));
}

// After approving or rejecting, the case leaves a pending queue and the next one opens.
function leaveQueue(id) {
  const r = parseHash();
  const i = review.queue.findIndex((c) => c.id === id);
  const status = r.params.get('status') ?? 'pending';
  if (i < 0 || status !== 'pending') return;
  review.queue.splice(i, 1);
  drawQueue();
  const next = review.queue[i] ?? review.queue[i - 1];
  location.hash = next ? reviewHref(r, next.id) : reviewHref(r, null);
}

async function approveCurrent() {
  const id = review.current?.case.id;
  const reviewer = $('#review-detail input[name=reviewer]')?.value.trim();
  const res = await caseWrite('approve', reviewer ? { reviewer } : {});
  if (res) {
    flash(`Approved ${id}`);
    leaveQueue(id);
  }
}

// Reject deletes the case file, so it asks for a second press.
async function rejectCurrent() {
  const button = $('#reject');
  if (!review.confirmReject) {
    review.confirmReject = true;
    button?.replaceChildren('Confirm reject (r)');
    button?.focus();
    return;
  }
  review.confirmReject = false;
  const id = review.current?.case.id;
  const res = await caseWrite('reject', {});
  if (res) {
    review.current = null;
    $('#review-detail').replaceChildren(h('p', { class: 'ok' }, `Rejected ${id}: its file was deleted.`));
    leaveQueue(id);
  }
}

// ---------------------------------------------------------------------------------------------
// Runs

const suiteName = (s) => (typeof s === 'string' ? s : s?.name ?? '');
// The compare route's class names → the comparison's own class ids (for the counts).
const CLASSES = [['regressed', 'regressed'], ['fixed', 'fixed'], ['failing', 'still_failing'], ['error', 'errored'], ['flaky', 'flaky'], ['passing', 'still_passing']];

const runsPage = {
  key: (r) => (r.id ? `run:${r.id}${query(['base', 'class', 'status', 'failure'].map((k) => [k, r.params.get(k) ?? '']))}` : `list${query({ suite: r.params.get('suite') ?? '' })}`),
  mount: (main, r, signal) => (r.id ? mountRun(main, r, signal) : mountRunList(main, r, signal)),
  detail(r, signal) {
    const key = r.params.get('case');
    if (r.id && key) guard(openRunCase(r, key, signal));
    else closeDrawer();
  },
};

function runColumns() {
  return [['Run'], ['Suite', 'hide-narrow'], ['Started (UTC)', 'hide-narrow'], ['Model', 'hide-narrow'], ['Cases', 'num'], ['Failed', 'num hide-narrow'], ['Errors', 'num'], ['Pass rate', 'num']];
}

function mountRunList(main, r, signal) {
  const suite = r.params.get('suite') ?? '';
  const suiteSel = h('select', { name: 'suite' }, h('option', { value: '' }, 'all suites'));
  suiteSel.addEventListener('change', () => { location.hash = href('runs', null, { suite: suiteSel.value }); });
  const trendBox = h('div');
  const trend = h('section', { class: 'chart', 'aria-label': 'Pass-rate trend' },
    h('div', { class: 'chart-head' }, h('strong', null, suite ? `Pass rate of ${suite}` : 'Pass rate (pick a suite)')), trendBox);
  let points = null;
  const drawTrend = fitChart(trendBox, (width) => {
    if (!points) return null;
    return points.length ? trendChart(points, width) : h('p', { class: 'muted' }, 'No runs yet.');
  }, signal);
  guard(api('/runs?limit=500', { signal }).then((d) => {
    const names = [...new Set((d.runs ?? []).map((x) => suiteName(x.suite)))].sort();
    if (suite && !names.includes(suite)) names.unshift(suite);
    suiteSel.replaceChildren(h('option', { value: '' }, 'all suites'), ...names.map((n) => h('option', { value: n, selected: n === suite }, n)));
    const shown = suite || names[0];
    if (!shown) return null;
    trend.firstChild.replaceChildren(h('strong', null, `Pass rate of ${shown}`));
    return api(`/suites/${enc(shown)}/trend`, { signal }).then((t) => {
      points = t.points ?? [];
      drawTrend();
    });
  }));
  const table = lazyList({
    cls: 'runs-list', signal, empty: 'No runs stored yet: `evals run SUITE` records one.',
    columns: runColumns(),
    async load(cursor) {
      const d = await api(`/runs${query({ suite, limit: 100, cursor: cursor ?? '' })}`, { signal });
      return { items: d.runs, next: d.next_cursor };
    },
    row: (run) => {
      const s = run.summary ?? {};
      return h('a', { class: 'item', role: 'row', href: href('runs', run.id) },
        h('span', { role: 'cell', class: 'mono', title: run.id }, run.id),
        h('span', { role: 'cell', class: 'hide-narrow' }, suiteName(run.suite)),
        h('span', { role: 'cell', class: 'hide-narrow mono' }, fmt.time(run.started_at)),
        h('span', { role: 'cell', class: 'hide-narrow' }, run.target?.model ?? '–'),
        h('span', { role: 'cell', class: 'num' }, fmt.int(s.cases)),
        h('span', { role: 'cell', class: 'num hide-narrow' }, fmt.int(s.failed)),
        h('span', { role: 'cell', class: 'num' }, fmt.int(s.errored)),
        h('span', { role: 'cell', class: 'num' }, fmt.pct(s.pass_rate)));
    },
  });
  main.append(h('h1', null, 'Runs'), h('label', null, 'Suite', suiteSel), trend, table);
}

function decisionView(d) {
  if (!d) return h('p', { class: 'muted' }, 'No gate decision: compare with a baseline to see one.');
  const test = d.test;
  return h('section', { class: 'panel', id: 'decision' },
    h('h3', null, 'Gate ', badge(d.passed ? 'passed' : 'failed', d.passed ? 'ok' : 'bad')),
    h('p', null, d.reason),
    h('ul', { class: 'checks' }, (d.checks ?? []).map((c) => h('li', null, h('span', { class: c.passed ? 'ok' : 'bad' }, c.passed ? '✓ ' : '✗ '), h('strong', null, c.name), ': ', c.detail))),
    test ? h('p', { class: 'muted' }, `${test.method} against ${test.reference}: p = ${test.p_value?.toFixed?.(3) ?? test.p_value} (α ${test.alpha}), ${test.significant ? 'significant' : 'not significant'}`) : null);
}

function runSummary(run) {
  const s = run.summary ?? {};
  return kv([['Run', h('code', null, run.id)], ['Suite', h('a', { href: href('runs', null, { suite: suiteName(run.suite) }) }, suiteName(run.suite))],
    ['Started', fmt.time(run.started_at)], ['Model', run.target?.model], ['Git', typeof run.git === 'string' ? run.git : run.git?.commit],
    ['Cases', `${fmt.int(s.cases)}: ${fmt.int(s.passed)} passed, ${fmt.int(s.failed)} failed, ${fmt.int(s.errored)} errors · pass rate ${fmt.pct(s.pass_rate)}`],
    ['Tokens', `${fmt.int(s.input_tokens)} in / ${fmt.int(s.output_tokens)} out`], ['Cost', fmt.cost(s.cost_usd)],
    ['Latency', `p50 ${fmt.ms(s.latency_p50_ms)}, p95 ${fmt.ms(s.latency_p95_ms)}`]]);
}

const caseKey = (c) => `${c.case_id}:${c.repeat ?? 0}`;
const runCases = new Map(); // case key → entry, for the drawer

function mountRun(main, r, signal) {
  const id = r.id;
  const base = r.params.get('base') ?? '';
  const cls = r.params.get('class') ?? '';
  const status = r.params.get('status') ?? '';
  const failure = r.params.get('failure') ?? '';
  const params = (more) => ({ base, class: cls, status, failure, ...more });
  runCases.clear();
  const head = h('div');
  const compareSel = h('select', { name: 'base' }, h('option', { value: base }, base || 'no baseline'));
  compareSel.addEventListener('change', () => { location.hash = href('runs', id, { base: compareSel.value }); });
  const failureSel = h('select', { name: 'failure' }, h('option', { value: failure }, failure || 'any'));
  guard(failureOptions(failure).then((opts) => {
    opts[0].textContent = 'any';
    failureSel.replaceChildren(...opts);
  }));
  failureSel.addEventListener('change', () => { location.hash = href('runs', id, params({ failure: failureSel.value })); });
  const filterBar = h('div', { class: 'classes', role: 'group', 'aria-label': base ? 'Class' : 'Status' });
  const decision = h('div');

  const columns = base ? [['Case'], ['Class'], ['Before → now', 'hide-narrow'], ['Score', 'num'], ['Reason', 'hide-narrow']]
    : [['Case'], ['Status'], ['Failure', 'hide-narrow'], ['Score', 'num'], ['Reason', 'hide-narrow']];
  const fetchPage = (cursor) => {
    const q = { failure, limit: PAGE_CASES, cursor: cursor ?? '' };
    return base ? api(`/runs/${enc(id)}/compare/${enc(base)}${query({ class: cls, ...q })}`, { signal })
      : api(`/runs/${enc(id)}${query({ status, ...q })}`, { signal });
  };
  const toPage = (d) => {
    const items = base ? d.comparison?.cases ?? [] : d.cases ?? [];
    for (const c of items) runCases.set(caseKey(c), c);
    return { items, next: d.next_cursor ?? d.comparison?.next_cursor, total: expectedTotal(d) };
  };
  main.append(h('p', { class: 'muted' }, 'Loading…'));
  // The page is drawn whole once the first page of cases is in, so nothing moves afterwards.
  guard(fetchPage(null).then((d) => {
    drawRunHead(d);
    const table = lazyList({
      cls: 'cases-list', signal, columns, empty: 'No case in this selection.', first: toPage(d),
      load: async (cursor) => toPage(await fetchPage(cursor)),
      row: (c) => caseRow(c, base, r),
    });
    main.replaceChildren(h('h1', null, h('a', { href: '#/runs' }, 'Runs'), ' / ', id), head,
      h('div', { class: 'form' }, h('label', null, 'Compare with', compareSel), h('label', null, 'Failure category', failureSel)),
      decision, filterBar, table);
  }));

  function expectedTotal(d) {
    if (failure) return null;
    if (base) {
      const counts = d.comparison?.counts ?? {};
      if (!cls) return Object.values(counts).reduce((a, b) => a + b, 0);
      return counts[CLASSES.find(([k]) => k === cls)?.[1]] ?? null;
    }
    const s = d.run?.summary ?? {};
    const reps = s.repeat ?? 1;
    const by = { pass: s.passed, fail: s.failed, error: s.errored };
    return status ? (by[status] ?? null) * reps : s.cases * reps;
  }

  function drawRunHead(d) {
    head.replaceChildren(...nodes([runSummary(d.run), base ? h('p', null, 'Compared with ', h('a', { href: href('runs', base) }, base),
      d.comparison?.deltas ? ` · pass rate ${fmt.pct(d.comparison.base?.summary?.pass_rate)} → ${fmt.pct(d.comparison.current?.summary?.pass_rate)}` : '') : null]));
    decision.replaceChildren(decisionView(d.decision));
    const counts = d.comparison?.counts ?? {};
    const buttons = base
      ? [['', 'all', null], ...CLASSES.map(([k, c]) => [k, k, counts[c] ?? 0])]
      : [['', 'all', d.run?.summary?.cases], ['pass', 'pass', d.run?.summary?.passed], ['fail', 'fail', d.run?.summary?.failed], ['error', 'error', d.run?.summary?.errored]];
    const current = base ? cls : status;
    filterBar.replaceChildren(...buttons.map(([value, label, n]) => h('a', {
      href: href('runs', id, params(base ? { class: value } : { status: value })),
      role: 'button', class: 'badge', 'aria-pressed': String(value === current),
    }, n == null ? label : `${label} ${fmt.int(n)}`)));
    guard(api(`/runs${query({ suite: suiteName(d.run.suite), limit: 100 })}`, { signal }).then((rl) => {
      const others = (rl.runs ?? []).filter((x) => x.id !== id);
      compareSel.replaceChildren(h('option', { value: '' }, 'no baseline'),
        ...others.map((x) => h('option', { value: x.id, selected: x.id === base }, `${x.id} · ${fmt.pct(x.summary?.pass_rate)}`)));
    }));
  }

}

function firstReason(c) {
  if (c.reasons?.length) return c.reasons[0];
  if (c.error) return typeof c.error === 'string' ? c.error : c.error.message ?? pretty(c.error);
  return (c.grades ?? []).find((g) => !g.pass)?.reason ?? '';
}

function meanScore(c) {
  const g = (c.grades ?? []).filter((x) => x.score != null);
  return g.length ? g.reduce((a, x) => a + x.score, 0) / g.length : null;
}

function caseRow(c, base, r) {
  const params = new URLSearchParams(r.params);
  params.set('case', caseKey(c));
  const label = c.repeat ? `${c.case_id} #${c.repeat}` : c.case_id;
  const cells = base
    ? [h('span', null, badge(c.class, statusTone(c.class))), h('span', { class: 'hide-narrow' }, `${c.base ?? '–'} → ${c.current ?? '–'}`),
      h('span', { class: 'num' }, c.base_score != null || c.current_score != null ? `${fmt.score(c.base_score)} → ${fmt.score(c.current_score)}` : '–')]
    : [h('span', null, badge(c.status, statusTone(c.status))), h('span', { class: 'hide-narrow' }, c.failure ?? ''), h('span', { class: 'num' }, fmt.score(meanScore(c)))];
  return h('a', { class: 'item', role: 'row', href: `#/runs/${enc(r.id)}${query(params)}`, 'data-case': c.case_id },
    h('span', { role: 'cell', class: 'mono', title: label }, label), cells, h('span', { role: 'cell', class: 'hide-narrow muted', title: firstReason(c) }, firstReason(c)));
}

async function openRunCase(r, key, signal) {
  const params = new URLSearchParams(r.params);
  params.delete('case');
  const body = openDrawer(key.replace(/:0$/, ''), `#/runs/${enc(r.id)}${query(params)}`);
  // The list may still be loading its first page when the address names a case.
  for (let i = 0; i < 50 && !runCases.has(key) && !signal.aborted; i += 1) await new Promise((ok) => setTimeout(ok, 100));
  const c = runCases.get(key);
  if (!body.isConnected) return;
  if (!c) {
    body.replaceChildren(h('p', { class: 'muted' }, 'This case is not in the loaded part of the list.'));
    return;
  }
  body.replaceChildren(...nodes([r.params.get('base') ? compareCaseView(c, r.params.get('base'), r.id) : resultView(c)]));
}

function outputView(o) {
  if (o == null) return h('p', { class: 'muted' }, 'no output');
  if (typeof o === 'string') return h('pre', null, o);
  return [o.text != null ? h('pre', null, o.text) : h('p', { class: 'muted' }, 'no text'), toolCallsView(o.tool_calls)];
}

function resultView(c) {
  return [
    kv([['Status', badge(c.status, statusTone(c.status))], ['Failure', c.failure], ['Cause', c.cause], ['Latency', fmt.ms(c.latency_ms)],
      ['Cost', fmt.cost(c.cost_usd)], ['Tokens', c.usage ? `${fmt.int(c.usage.input_tokens)} in / ${fmt.int(c.usage.output_tokens)} out` : null],
      ['Case file', c.case_file ? h('code', null, c.case_file) : null], ['Trace', c.trace_id ? h('a', { href: href('traces', c.trace_id) }, c.trace_id) : null]]),
    c.error ? h('pre', { class: 'bad' }, typeof c.error === 'string' ? c.error : pretty(c.error)) : null,
    h('h3', null, 'Input'), c.input != null ? h('pre', null, c.input) : h('p', { class: 'muted' }, 'the case file is gone'),
    h('h3', null, 'Output'), outputView(c.output),
    h('h3', null, 'Graders'), gradesTable(c.grades),
  ];
}

function gradesTable(grades) {
  if (!grades?.length) return h('p', { class: 'muted' }, 'not graded');
  return h('table', { class: 'grades' }, h('thead', null, h('tr', null, h('th', null, 'Grader'), h('th', null, 'Score'), h('th', null, 'Result'), h('th', null, 'Reason'))),
    h('tbody', null, grades.map((g) => h('tr', null, h('td', null, g.grader), h('td', null, fmt.score(g.score)),
      h('td', null, badge(g.pass ? 'pass' : 'fail', g.pass ? 'ok' : 'bad')), h('td', null, g.reason ?? '')))));
}

// Side by side: the baseline's lines on the left, the run's on the right, changed lines paired.
function sideBySide(hunks, baseLabel, currentLabel) {
  const grid = h('div', { class: 'diff', role: 'table', 'aria-label': 'output diff, baseline left, this run right' },
    h('div', { class: 'side-head' }, baseLabel), h('div', { class: 'side-head' }, currentLabel));
  for (const hunk of hunks) {
    grid.append(h('div', { class: 'hunk' }, hunk.header ?? ''));
    let dels = [];
    let ins = [];
    const flush = () => {
      for (let i = 0; i < Math.max(dels.length, ins.length); i += 1) {
        grid.append(h('div', { class: dels[i] != null ? 'del' : 'gap' }, dels[i] ?? ''), h('div', { class: ins[i] != null ? 'ins' : 'gap' }, ins[i] ?? ''));
      }
      dels = [];
      ins = [];
    };
    for (const line of hunk.lines ?? []) {
      if (line.op === 'delete') dels.push(line.text);
      else if (line.op === 'insert') ins.push(line.text);
      else {
        flush();
        grid.append(h('div', null, line.text), h('div', null, line.text));
      }
    }
    flush();
  }
  return grid;
}

function outputText(o) {
  if (o == null) return '';
  return typeof o === 'string' ? o : o.text ?? '';
}

function compareCaseView(c, base, run) {
  const baseOut = c.base_output;
  const curOut = c.current_output ?? c.output;
  const hunks = c.diff?.length ? c.diff
    : [{ header: '', lines: [...new Set([outputText(baseOut), outputText(curOut)])].length === 1
      ? outputText(curOut).split('\n').map((text) => ({ op: 'equal', text }))
      : [...outputText(baseOut).split('\n').map((text) => ({ op: 'delete', text })), ...outputText(curOut).split('\n').map((text) => ({ op: 'insert', text }))] }];
  return [
    kv([['Class', badge(c.class, statusTone(c.class))], ['Before → now', `${c.base ?? '–'} → ${c.current ?? '–'}`],
      ['Score', `${fmt.score(c.base_score)} → ${fmt.score(c.current_score)}`], ['Tags', (c.tags ?? []).join(', ')],
      ['Case file', c.case_file ? h('code', null, c.case_file) : null], ['Trace', c.trace_id ? h('a', { href: href('traces', c.trace_id) }, c.trace_id) : null]]),
    h('h3', null, 'Input'), c.input != null ? h('pre', null, c.input) : h('p', { class: 'muted' }, 'the case file is gone'),
    h('h3', null, 'Grader reasons'), c.reasons?.length ? h('ul', null, c.reasons.map((x) => h('li', null, x))) : h('p', { class: 'muted' }, 'none'),
    c.grades ? gradesTable(c.grades) : null,
    h('h3', null, 'Output: baseline and this run'), sideBySide(hunks, `baseline ${base}`, `this run ${run}`),
    (c.changes?.json ?? []).length ? [h('h3', null, 'JSON changes'), h('ul', null, c.changes.json.map((j) => h('li', null, h('code', null, j.path), `: ${pretty(j.base)} → ${pretty(j.current)}`)))] : null,
    baseOut?.tool_calls?.length || curOut?.tool_calls?.length
      ? [h('h3', null, 'Tool calls: baseline and this run'), h('div', { class: 'diff' },
        h('div', { class: 'side-head' }, 'baseline'), h('div', { class: 'side-head' }, 'this run'),
        h('div', null, callsText(baseOut?.tool_calls)), h('div', null, callsText(curOut?.tool_calls)))]
      : null,
  ];
}

function callsText(calls) {
  if (!calls?.length) return 'no tool calls';
  return calls.map((c) => `${c.name}(${c.arguments ?? ''})${c.output != null ? ` → ${c.output}` : ''}`).join('\n');
}

// ---------------------------------------------------------------------------------------------
// Boot

const pages = { traces: tracesPage, review: reviewPage, runs: runsPage };

document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && drawer) {
    e.preventDefault();
    location.hash = drawer.closeHref;
    return;
  }
  if (e.key === 'Tab' && drawer) {
    keepFocusIn(drawer.el, e);
    return;
  }
  if (e.altKey || e.ctrlKey || e.metaKey || e.target.closest?.('input, textarea, select, [contenteditable]')) return;
  const page = active && pages[active.name];
  if (page?.keys?.(e)) e.preventDefault();
});

window.addEventListener('hashchange', route);
if (!location.hash) history.replaceState(null, '', '#/traces');
route();
refreshPending();
