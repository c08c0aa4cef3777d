// kconmon web view: polls api/v1/matrix (a relative URL, so it works behind `kubectl port-forward` and behind a proxy
// path) and draws the active verdicts and a matrix — zone × zone, a zone pair's node × node (#zones=A,B) or one node's
// pairs both ways (#node=N). A poll whose version did not change is a 304 and redraws nothing but the verdicts' ages.
// No dependencies; every name from the cluster is inserted as text, never as HTML.

const MAX_ROWS = 100;
const LOSS_WARNING = 0.05;

const state = {
  /** What the hash asks for: { zones: [a, b] } or { node } or {}. */
  query: parseHash(),
  /** Version and query of what is drawn. */
  drawn: '',
  data: undefined,
  /** Controller clock − this browser's clock, measured when the drawn document was fresh. */
  offsetMs: 0,
  timer: undefined,
  lastSuccess: undefined,
};

const $ = (id) => document.getElementById(id);

function parseHash() {
  const parameters = new URLSearchParams(location.hash.slice(1));
  const zones = parameters.get('zones');
  const node = parameters.get('node');
  if (node) return { node };
  if (zones?.includes(',')) return { zones: zones.split(',', 2) };
  return {};
}

function apiPath(query) {
  if (query.node) return `api/v1/matrix?node=${encodeURIComponent(query.node)}`;
  if (query.zones) return `api/v1/matrix?zones=${query.zones.map(encodeURIComponent).join(',')}`;
  return 'api/v1/matrix';
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name === 'class') node.className = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== undefined && child !== null) node.append(child);
  return node;
}

const percent = (share) => `${(share * 100).toFixed(share > 0 && share < 0.1 ? 1 : 0)} %`;

function duration(ms) {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  const hours = Math.floor(minutes / 60);
  return `${hours}h ${minutes % 60}m`;
}

/** ok, degraded, down or none: the cell's colour. */
function levelOf(cell) {
  if (!cell || (cell.known === 0 && cell.loss === null)) return 'none';
  if (cell.failShare !== null && cell.failShare >= 0.5) return 'down';
  if (cell.down > 0 || (cell.loss !== null && cell.loss > LOSS_WARNING)) return 'degraded';
  return cell.known > 0 ? 'ok' : 'none';
}

function cellLines(cell, nodePair) {
  if (!cell) return ['no data'];
  const lines = [];
  if (nodePair) lines.push(cell.known === 0 ? 'unknown' : cell.down > 0 ? 'down' : 'up');
  else lines.push(`${cell.down}/${cell.known} down`);
  lines.push(cell.loss === null ? 'loss –' : `loss ${percent(cell.loss)}`);
  lines.push(cell.rttMs === null ? 'rtt –' : `${cell.rttMs.toFixed(cell.rttMs < 10 ? 2 : 1)} ms`);
  return lines;
}

/** Nodes, zones and zone pairs that an active verdict names. */
function blamed(verdicts) {
  const nodes = new Set();
  const zonePairs = new Set();
  for (const verdict of verdicts) {
    const subject = verdict.subject;
    for (const name of [subject.node, subject.source, subject.destination]) if (name) nodes.add(name);
    if (subject.sourceZone && subject.destinationZone) zonePairs.add(`${subject.sourceZone}\n${subject.destinationZone}`);
  }
  return { nodes, zonePairs };
}

/** Rows (or columns) to draw: all up to MAX_ROWS, else those with problems first. */
function capped(names, troubled) {
  if (names.length <= MAX_ROWS) return names;
  const first = names.filter((name) => troubled.has(name));
  const rest = names.filter((name) => !troubled.has(name));
  return [...first, ...rest].slice(0, MAX_ROWS);
}

function drawMatrix(container, matrix, options) {
  const { kind, blame } = options;
  const cells = new Map(matrix.cells.map((cell) => [`${cell.source}\n${cell.destination}`, cell]));
  const troubled = new Set();
  for (const cell of matrix.cells) {
    if (levelOf(cell) === 'ok') continue;
    troubled.add(cell.source);
    troubled.add(cell.destination);
  }
  for (const name of blame.nodes) troubled.add(name);
  const rows = capped(matrix.rows, troubled);
  const columns = capped(matrix.columns, troubled);
  const header = (name, axis) => {
    const isBlamed = kind !== 'zones' && blame.nodes.has(name);
    const label = kind === 'zones' ? name : element('a', { href: `#node=${encodeURIComponent(name)}` }, name);
    return element('th', { scope: axis, class: isBlamed ? 'blamed' : undefined, 'data-name': name }, label);
  };
  const table = element('table', { class: 'matrix', 'data-kind': kind });
  table.append(element('tr', {}, element('th', { class: 'corner' }, 'from ↓ to →'), ...columns.map((name) => header(name, 'col'))));
  for (const source of rows) {
    const row = element('tr', {}, header(source, 'row'));
    for (const destination of columns) {
      const cell = cells.get(`${source}\n${destination}`);
      const self = kind !== 'zones' && source === destination;
      const level = self ? 'none' : levelOf(cell);
      const lines = self ? ['—'] : cellLines(cell, kind !== 'zones');
      const content = [];
      lines.forEach((line, index) => {
        if (index > 0) content.push(element('br'));
        content.push(line);
      });
      const title = `${source} → ${destination}`;
      const inner =
        kind === 'zones'
          ? element('a', { href: `#zones=${encodeURIComponent(source)},${encodeURIComponent(destination)}`, title: `${title}: node × node` }, ...content)
          : element('span', { title }, ...content);
      const zonePairBlamed = kind === 'zones' && blame.zonePairs.has(`${source}\n${destination}`);
      row.append(
        element(
          'td',
          {
            class: `cell level-${zonePairBlamed ? 'down' : level}`,
            'data-source': source,
            'data-destination': destination,
            'data-level': zonePairBlamed ? 'down' : level,
          },
          inner,
        ),
      );
    }
    table.append(row);
  }
  container.replaceChildren(table);
  if (rows.length < matrix.rows.length || columns.length < matrix.columns.length) {
    container.append(
      element(
        'p',
        { class: 'note' },
        `showing ${rows.length} of ${matrix.rows.length} rows and ${columns.length} of ${matrix.columns.length} columns, troubled first; ` +
          'find a node to see all its pairs',
      ),
    );
  }
}

function drawVerdicts(data) {
  const list = $('verdicts');
  const items = data.verdicts.map((verdict) => {
    const evidence = verdict.evidence;
    const facts = [`${evidence.failing} of ${evidence.of}`];
    if (evidence.lossRate !== undefined) facts.push(`loss ${percent(evidence.lossRate)} (surely > ${percent(evidence.lossLowerBound ?? 0)})`);
    if (evidence.rttMs !== undefined) facts.push(`rtt ${evidence.rttMs.toFixed(2)} ms vs baseline ${evidence.baselineMs?.toFixed(2)} ms`);
    const links = [...evidence.pairs.map((pair) => `${pair.source} → ${pair.destination}`), ...(evidence.nodes ?? [])];
    const nodeLinks = [...new Set([verdict.subject.node, verdict.subject.source, verdict.subject.destination].filter(Boolean))].map((name) =>
      element('a', { href: `#node=${encodeURIComponent(name)}` }, name),
    );
    return element(
      'li',
      { class: `verdict${verdict.clearing ? ' clearing' : ''}`, 'data-id': verdict.id, 'data-kind': verdict.kind },
      element('div', { class: 'summary' }, verdict.summary),
      element(
        'div',
        { class: 'meta' },
        `${verdict.kind} · active for `,
        element('span', { class: 'age', 'data-since': verdict.since }, ''),
        ` · ${verdict.windows} window${verdict.windows === 1 ? '' : 's'}${verdict.clearing ? ' · clearing' : ''} · `,
        ...nodeLinks,
      ),
      element('div', { class: 'evidence' }, `evidence: ${facts.join(', ')}${links.length > 0 ? ` — ${links.join(', ')}` : ''}`),
    );
  });
  list.replaceChildren(...items);
  $('no-verdicts').hidden = items.length > 0;
  updateAges();
}

function updateAges() {
  const now = Date.now() + state.offsetMs;
  for (const age of document.querySelectorAll('.age')) age.textContent = duration(now - Date.parse(age.dataset.since));
}

function drawHeader(data) {
  const health = $('health');
  const healthy = data.healthy;
  health.dataset.health = healthy === true ? 'healthy' : healthy === false ? 'unhealthy' : 'unknown';
  health.textContent =
    healthy === true ? 'healthy' : healthy === false ? `${data.verdicts.length} verdict${data.verdicts.length === 1 ? '' : 's'}` : 'not enough data';
  const coverage = data.coverage;
  const closed = data.window;
  $('window-info').textContent =
    `controller ${data.controller} · ` +
    (closed ? `window ${closed.end.slice(11, 19)} UTC (${closed.lengthMs / 1000} s) · ` : 'no window closed yet · ') +
    `${coverage.agentsReporting} of ${coverage.agents} agents reporting · ${coverage.pairsKnown} of ${coverage.pairsAssigned} pairs known`;
}

function drawCrumbs(query, data) {
  const crumbs = [element('a', { href: '#' }, 'All zones')];
  let title = 'Zones: from × to';
  if (query.zones) {
    const [from, to] = query.zones;
    const reverse = `#zones=${encodeURIComponent(to)},${encodeURIComponent(from)}`;
    crumbs.push(element('span', {}, '›'), element('a', { href: reverse }, `reverse: ${to} → ${from}`));
    title = `Nodes: ${from} → ${to}`;
  } else if (query.node) {
    title = `Node ${query.node}: its probes (first table) and its probers (second table)`;
  }
  $('crumbs').replaceChildren(...crumbs);
  $('matrix-title').textContent = title;
  $('node-search').placeholder = `node name (${data.zones.length} zones)`;
}

function draw(data) {
  const query = state.query;
  const blame = blamed(data.verdicts);
  drawHeader(data);
  drawVerdicts(data);
  drawCrumbs(query, data);
  const kind = query.node ? 'node' : query.zones ? 'zone-pair' : 'zones';
  drawMatrix($('matrix'), data.matrix, { kind, blame });
  if (data.incoming) drawMatrix($('incoming'), data.incoming, { kind, blame });
  else $('incoming').replaceChildren();
}

function showProblem(text) {
  const problem = $('problem');
  problem.hidden = text === undefined;
  problem.textContent = text ?? '';
}

function pollInterval() {
  const lengthMs = state.data?.window?.lengthMs ?? 5000;
  return Math.min(2000, Math.max(250, lengthMs / 5));
}

async function poll() {
  clearTimeout(state.timer);
  const query = state.query;
  const path = apiPath(query);
  try {
    const response = await fetch(path, { cache: 'no-cache', headers: { accept: 'application/json' } });
    if (query !== state.query) return; // the hash changed meanwhile: that poll draws
    if (!response.ok) {
      showProblem(`${path}: ${response.status} ${(await response.text()).trim()}`);
      if (!state.drawn.endsWith(` ${path}`)) {
        // Nothing to show for this query (an unknown node or zone): no matrix of another query under its name.
        $('matrix-title').textContent = 'Nothing to show';
        $('matrix').replaceChildren();
        $('incoming').replaceChildren();
      }
    } else {
      const data = await response.json();
      const key = `${data.version} ${path}`;
      if (key !== state.drawn) {
        state.offsetMs = Date.parse(data.generatedAt) - Date.now();
        state.data = data;
        state.drawn = key;
        draw(data);
      }
      updateAges();
      showProblem(undefined);
      state.lastSuccess = new Date();
      $('updated').textContent = `updated ${state.lastSuccess.toLocaleTimeString()} · polling every ${pollInterval() / 1000} s`;
    }
  } catch (error) {
    showProblem(`the controller cannot be reached (${error.message}); showing what it said last`);
  }
  if (query === state.query) state.timer = setTimeout(poll, pollInterval());
}

window.addEventListener('hashchange', () => {
  state.query = parseHash();
  state.drawn = '';
  poll();
});

$('search').addEventListener('submit', (event) => {
  event.preventDefault();
  const name = $('node-search').value.trim().toLowerCase();
  location.hash = name ? `node=${encodeURIComponent(name)}` : '';
});

poll();
