// <ledgerlens-assistant>: the Ledgerlens assistant for any reporting page. Plain JavaScript, no
// build step. Served by the Ledgerlens API at /embed/ledgerlens-assistant.js.
//
//   <script type="module" src="https://api.example.com/embed/ledgerlens-assistant.js"></script>
//   <ledgerlens-assistant token="<signed embed token from your server>"
//       api="https://api.example.com" page="payments" metric="gross_volume"
//       period-start="2025-01-01" period-end="2025-04-01"
//       filters='[{"dimension": "card_brand", "values": ["visa"]}]'></ledgerlens-assistant>
//
// The token (minted by the host page's server, e.g. `ledgerlens token`) names the one account the
// element may read; the page attributes are what the page shows, so "by month?" edits them. Steps
// stream over Server-Sent Events read with fetch (EventSource cannot POST). Events for the host:
// `ledgerlens-answer` (detail: the Answer) and `ledgerlens-error` (detail: the problem details).

const STYLE = `
:host { display: block; font: 14px/1.4 system-ui, sans-serif; color: #1a1a2e; }
form { display: flex; gap: .5rem; margin-bottom: .75rem; }
input { flex: 1; padding: .45rem .6rem; border: 1px solid #bbb; border-radius: 6px; font: inherit; }
button { padding: .45rem .9rem; border: 0; border-radius: 6px; background: #635bff; color: #fff;
  font: inherit; cursor: pointer; }
button:disabled { opacity: .6; cursor: progress; }
.turn { border-top: 1px solid #eee; padding: .6rem 0; }
.question { font-weight: 600; }
.steps { margin: .3rem 0; padding-left: 1.1rem; color: #666; font-size: 12px; }
.headline { font-size: 1.25rem; font-weight: 700; margin: .3rem 0; }
.status-refused .headline, .status-clarify .headline { font-size: 1rem; font-weight: 600; }
table { border-collapse: collapse; margin: .4rem 0; font-variant-numeric: tabular-nums; }
th, td { padding: .15rem .6rem; border-bottom: 1px solid #eee; text-align: left; }
td.num, th.num { text-align: right; }
tr.total td { font-weight: 700; border-top: 2px solid #ccc; }
.assumptions { color: #555; font-size: 12px; }
pre { background: #f6f6fa; padding: .5rem; white-space: pre-wrap; font-size: 12px; }
.error { color: #b00020; font-weight: 600; }
svg { display: block; margin: .3rem 0; }
`;

const NUMERIC = new Set(['money', 'count', 'ratio', 'number']);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

function formatCell(value, column) {
  if (value === null || value === undefined) return '';
  if (column.kind === 'money' && column.currency) {
    const n = Number(value);
    try {
      return new Intl.NumberFormat(undefined, { style: 'currency', currency: column.currency.toUpperCase() }).format(n);
    } catch (_) { return String(value); }
  }
  if (column.kind === 'ratio') return `${(Number(value) * 100).toFixed(1)}%`;
  if (column.kind === 'count') return Number(value).toLocaleString();
  return String(value);
}

// Parse an SSE body as it arrives: calls onEvent(name, data, id) for each complete event.
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = 'message', id = null;
      const data = [];
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') name = val;
        else if (field === 'data') data.push(val);
        else if (field === 'id') id = val;
      }
      onEvent(name, data.join('\n'), id);
    }
  }
}

class LedgerlensAssistant extends HTMLElement {
  static observedAttributes = ['token', 'api'];

  constructor() {
    super();
    this.conversation = null;
    const root = this.attachShadow({ mode: 'open' });
    this.input = el('input', { type: 'text', name: 'question', 'aria-label': 'Ask a question',
      placeholder: 'Ask about this report, e.g. "by month?"', autocomplete: 'off' });
    this.button = el('button', { type: 'submit' }, 'Ask');
    this.form = el('form', { part: 'form' }, this.input, this.button);
    this.log = el('div', { part: 'turns', 'aria-live': 'polite' });
    root.append(el('style', {}, STYLE), this.form, this.log);
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      const q = this.input.value.trim();
      if (q) this.ask(q);
    });
  }

  attributeChangedCallback() {
    this.conversation = null; // a new token (or API) starts a new conversation
  }

  get base() {
    const api = this.getAttribute('api') || new URL(import.meta.url).origin;
    return api.replace(/\/$/, '');
  }

  pageContext() {
    const metric = this.getAttribute('metric');
    if (!metric) return null;
    const page = { metric };
    if (this.getAttribute('page')) page.name = this.getAttribute('page');
    const start = this.getAttribute('period-start'), end = this.getAttribute('period-end');
    if (start && end) page.period = { start, end };
    if (this.getAttribute('filters')) page.filters = JSON.parse(this.getAttribute('filters'));
    return page;
  }

  async call(path, body, accept = 'application/json') {
    return fetch(this.base + path, {
      method: 'POST',
      headers: { 'Authorization': `Bearer ${this.getAttribute('token') || ''}`,
        'Content-Type': 'application/json', 'Accept': accept },
      body: JSON.stringify(body),
    });
  }

  async problem(response) {
    try { return await response.json(); } catch (_) {
      return { status: response.status, title: response.statusText, detail: `HTTP ${response.status}` };
    }
  }

  async ensureConversation() {
    if (this.conversation) return this.conversation;
    const body = {};
    if (this.getAttribute('as-of')) body.as_of = this.getAttribute('as-of');
    const r = await this.call('/v1/conversations', body);
    if (!r.ok) throw await this.problem(r);
    this.conversation = (await r.json()).id;
    return this.conversation;
  }

  async ask(question) {
    const turn = el('div', { class: 'turn', 'data-part': 'turn' },
      el('div', { class: 'question', 'data-part': 'question' }, question));
    const steps = el('ol', { class: 'steps', 'data-part': 'steps' });
    turn.append(steps);
    this.log.append(turn);
    this.button.disabled = true;
    this.input.value = '';
    try {
      const id = await this.ensureConversation();
      const body = { question };
      const page = this.pageContext();
      if (page) body.page = page;
      const r = await this.call(`/v1/conversations/${id}/messages`, body, 'text/event-stream');
      if (!r.ok) throw await this.problem(r);
      await readEvents(r, (name, data) => {
        const parsed = JSON.parse(data);
        if (name === 'answer') {
          this.renderAnswer(turn, parsed);
          this.dispatchEvent(new CustomEvent('ledgerlens-answer', { detail: parsed, bubbles: true }));
        } else if (name === 'error') {
          throw parsed;
        } else {
          steps.append(el('li', { 'data-step': name }, `${name}: ${parsed.text}`));
        }
      });
    } catch (err) {
      const p = err && err.detail ? err : { status: 0, detail: String(err) };
      turn.append(el('div', { class: 'error', role: 'alert', 'data-part': 'error',
        'data-status': String(p.status) }, p.detail));
      this.dispatchEvent(new CustomEvent('ledgerlens-error', { detail: p, bubbles: true }));
    } finally {
      this.button.disabled = false;
    }
  }

  renderAnswer(turn, answer) {
    const box = el('div', { class: `answer status-${answer.status}`, 'data-part': 'answer',
      'data-status': answer.status });
    box.append(el('div', { class: 'headline', 'data-part': 'headline' }, answer.headline || ''));
    if (answer.rows && answer.rows.length && answer.columns.length) {
      box.append(this.chart(answer) || '', this.table(answer));
    }
    if (answer.explanation) box.append(el('p', { 'data-part': 'explanation' }, answer.explanation));
    if (answer.assumptions && answer.assumptions.length) {
      const list = el('ul', { class: 'assumptions', 'data-part': 'assumptions' });
      for (const a of answer.assumptions) list.append(el('li', {}, a.text));
      box.append(list);
    }
    if (answer.sql) {
      box.append(el('details', { 'data-part': 'sql' }, el('summary', {}, 'SQL'), el('pre', {}, answer.sql)));
    }
    turn.append(box);
  }

  table(answer) {
    const cols = answer.columns;
    const head = el('tr', {}, ...cols.map((c) =>
      el('th', { class: NUMERIC.has(c.kind) ? 'num' : '' }, c.label || c.name)));
    const row = (r, cls = '') => el('tr', { class: cls }, ...cols.map((c, i) => {
      let text = formatCell(r[i], c);
      if (!text && !NUMERIC.has(c.kind)) text = cls === 'total' && i === 0 ? 'Total' : '—';
      return el('td', { class: NUMERIC.has(c.kind) ? 'num' : '' }, text);
    }));
    const body = answer.rows.map((r) => row(r));
    if (answer.total) body.push(row(answer.total, 'total'));
    return el('table', { 'data-part': 'table' }, el('thead', {}, head), el('tbody', {}, ...body));
  }

  // A small bar chart of the first numeric column, when the answer suggests a chart.
  chart(answer) {
    if (!answer.chart || answer.rows.length < 2 || answer.rows.length > 36) return null;
    const y = answer.columns.findIndex((c) => NUMERIC.has(c.kind));
    if (y < 0) return null;
    const values = answer.rows.map((r) => Number(r[y]) || 0);
    const max = Math.max(...values.map(Math.abs), 1);
    const w = 18, gap = 4, h = 80;
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('width', String(values.length * (w + gap)));
    svg.setAttribute('height', String(h));
    svg.setAttribute('data-part', 'chart');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', `Bar chart of ${answer.columns[y].label || answer.columns[y].name}`);
    values.forEach((v, i) => {
      const bar = document.createElementNS(ns, 'rect');
      const bh = Math.max(1, Math.round((Math.abs(v) / max) * (h - 2)));
      bar.setAttribute('x', String(i * (w + gap)));
      bar.setAttribute('y', String(h - bh));
      bar.setAttribute('width', String(w));
      bar.setAttribute('height', String(bh));
      bar.setAttribute('fill', v < 0 ? '#e5484d' : '#635bff');
      svg.append(bar);
    });
    return svg;
  }
}

if (!customElements.get('ledgerlens-assistant')) {
  customElements.define('ledgerlens-assistant', LedgerlensAssistant);
}
