// The FactoryOperator console: plain JavaScript, no build step. Every value from the server is
// put in the page with textContent, createElement or setAttribute, never as HTML.
'use strict';

const main = () => document.getElementById('main');
let config = { allowActions: false };
let refresh = null;        // the current page's reload, called on the events it cares about
let wants = () => false;   // which change events concern the current page
let timer = null;
let lastLoad = 0;

// ---- building elements -------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const seg = (value) => encodeURIComponent(value);
const resourceHref = (r) => `/resources/${seg(r.workspace)}/${seg(r.resourceType)}/${seg(r.name)}`;
const runHref = (ws, pipeline, run) => `/pipelines/${seg(ws)}/${seg(pipeline)}/runs/${seg(run)}`;

function tone(state) {
  switch (state) {
    case 'active': case 'succeeded': case 'skipped': return 's-ok';
    case 'warning': return 's-warn';
    case 'error': case 'failed': case 'timed_out': case 'upstream_failed': case 'cancelled': case 'unreadable': return 's-bad';
    case 'running': case 'inprogress': case 'queued': case 'retrying': case 'cancelling': return 's-run';
    default: return 's-idle';
  }
}
const badge = (state) => el('span', { class: `badge ${tone(state)}` }, state || '-');

// Times in the viewer's time zone; the stored value in the tooltip.
function time(iso) {
  if (!iso) return '-';
  const date = new Date(iso);
  if (isNaN(date)) return iso;
  return el('time', { datetime: iso, title: iso }, date.toLocaleString());
}

function duration(seconds) {
  if (seconds === undefined || seconds === null) return '';
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60), s = Math.round(seconds % 60);
  return m < 60 ? `${m}m${String(s).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function rows(pairs) {
  const list = el('dl', { class: 'rows' });
  for (const [label, value] of pairs) {
    if (value === undefined) continue;
    list.append(el('dt', {}, label), el('dd', {}, value === null || value === '' ? '-' : value));
  }
  return list;
}

function show(...nodes) {
  main().replaceChildren(...nodes.filter((node) => node !== null && node !== undefined && node !== false));
}

function setTitle(text) { document.title = `${text} · FactoryOperator console`; }

async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: 'application/json' } });
  let body = null;
  try { body = await response.json(); } catch (_) { body = null; }
  if (!response.ok) throw new Error((body && body.error) || `${url}: HTTP ${response.status}`);
  return body;
}

function failed(error) {
  show(el('div', { class: 'panel unreadable', role: 'alert' }, el('h1', {}, 'Cannot show this page'), el('p', { class: 'error' }, String(error.message || error))));
}

function unreadableList(list) {
  if (!list || list.length === 0) return null;
  return el('section', { class: 'panel unreadable', 'aria-labelledby': 'unreadable-title' },
    el('h2', { id: 'unreadable-title' }, `Unreadable documents (${list.length})`),
    el('p', { class: 'muted' }, 'These KV documents do not decode: malformed, or written by a newer operator. They are left out of the tables above.'),
    el('ul', { class: 'plain' }, list.map((u) => el('li', { 'data-unreadable-key': u.key }, badge('unreadable'), ' ', el('code', {}, u.key), el('span', { class: 'muted' }, ` in ${u.bucket}: `), u.message))));
}

// ---- resources -----------------------------------------------------------------------------

const filters = { workspace: '', type: '', status: '', text: '' };

async function resourcesPage() {
  setTitle('Resources');
  const data = await getJSON('/api/resources');
  const distinct = (key) => [...new Set(data.resources.map((r) => r[key]))].sort();
  const select = (key, label, values) => el('label', {}, label,
    el('select', { id: `filter-${key}`, 'data-filter': key, onchange: (e) => { filters[key] = e.target.value; draw(); } },
      el('option', { value: '' }, 'all'), values.map((v) => el('option', { value: v, selected: filters[key] === v }, v))));
  const body = el('tbody');
  const count = el('p', { class: 'count', role: 'status' });
  const draw = () => {
    const text = filters.text.toLowerCase();
    const shown = data.resources.filter((r) =>
      (!filters.workspace || r.workspace === filters.workspace) && (!filters.type || r.resourceType === filters.type) &&
      (!filters.status || r.status === filters.status || r.runtime === filters.status) && (!text || r.name.toLowerCase().includes(text)));
    body.replaceChildren(...shown.slice(0, 2000).map((r) => {
      const last = r.currentRun || r.lastRun;
      return el('tr', { 'data-resource': `${r.workspace}/${r.resourceType}/${r.name}` },
        el('td', {}, el('a', { href: resourceHref(r) }, r.name)), el('td', {}, r.resourceType), el('td', { class: 'hide-narrow' }, r.workspace),
        el('td', {}, badge(r.status)), el('td', {}, badge(r.runtime)),
        el('td', { class: 'hide-narrow' }, last ? time(last.finishedAt || last.startedAt || last.createdAt || last.recordedAt || last.checkedAt) : '-'),
        el('td', { class: 'hide-narrow' }, r.owner || '-'));
    }));
    count.textContent = `${shown.length} of ${data.resources.length} resources` + (shown.length > 2000 ? ' (the first 2000 shown; filter to see the rest)' : '');
  };
  const search = el('input', { type: 'search', id: 'filter-text', value: filters.text, 'aria-label': 'Filter by name', placeholder: 'name contains…',
    oninput: (e) => { filters.text = e.target.value; draw(); } });
  show(
    el('h1', {}, 'Resources'),
    el('div', { class: 'filters', role: 'search' },
      select('workspace', 'Workspace', distinct('workspace')), select('type', 'Type', distinct('resourceType')),
      select('status', 'State', [...new Set(data.resources.flatMap((r) => [r.status, r.runtime]))].sort()),
      el('label', {}, 'Name', search)),
    count,
    el('div', { class: 'tablewrap' }, el('table', {},
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Name'), el('th', { scope: 'col' }, 'Type'), el('th', { scope: 'col', class: 'hide-narrow' }, 'Workspace'),
        ['Status', 'Runtime'].map((h) => el('th', { scope: 'col' }, h)),
        el('th', { scope: 'col', class: 'hide-narrow' }, 'Last run'), el('th', { scope: 'col', class: 'hide-narrow' }, 'Owner'))),
      body)),
    data.resources.length === 0 ? el('p', { class: 'muted' }, 'No resources yet: apply one (factoryctl apply -f …).') : null,
    unreadableList(data.unreadable));
  draw();
  return { wants: (e) => e.kind === 'resource' || e.kind === 'loaded', throttle: 1000 };
}

// ---- one resource --------------------------------------------------------------------------

function runSection(title, run) {
  if (!run) return el('section', { class: 'panel' }, el('h2', {}, title), el('p', { class: 'muted' }, 'none'));
  const extra = (run.rows || []).map((row) => [row.label, row.value]);
  if (!run.rows && run.details && typeof run.details === 'object') {
    for (const [key, value] of Object.entries(run.details)) extra.push([key, typeof value === 'string' ? value : JSON.stringify(value)]);
  }
  return el('section', { class: 'panel', 'data-run': title },
    el('h2', {}, title),
    rows([
      ['ID', run.id], ['Status', el('span', {}, el('span', { class: `badge ${tone(run.phase || run.runtime)}` }, run.status), ` (${run.runtime})`)],
      ['Progress', run.progress === undefined || run.progress === null ? undefined :
        el('span', {}, el('progress', { max: 1, value: run.progress, 'aria-label': `${Math.round(run.progress * 100)}% done` }), ` ${Math.round(run.progress * 100)}%`)],
      ['Summary', run.summary], ...extra,
      ['Error', run.error ? el('span', { class: 'error' }, run.error) : '-'],
      ['Created', time(run.createdAt)], ['Started', time(run.startedAt)], ['Finished', time(run.finishedAt)], ['Checked', time(run.checkedAt)],
    ]));
}

function command(c) {
  if (!c) return '-';
  let text = `${c.operation} at sequence ${c.sequence}, id ${c.id}`;
  if (c.stage) text += `, stage ${c.stage}`;
  if (c.owner) text += `, held by ${c.owner}`;
  return el('span', {}, text, c.receivedAt ? el('span', {}, ', received ', time(c.receivedAt)) : null);
}

// The last action's outcome, kept across the page's live reloads.
let lastResult = { text: '', ok: true };

function actionPanel(target, canCancel, cancelRun) {
  if (!config.allowActions) return null;
  const token = el('input', { type: 'password', id: 'token', autocomplete: 'off', value: sessionStorage.getItem('factory-token') || '',
    oninput: (e) => sessionStorage.setItem('factory-token', e.target.value) });
  const result = el('p', { class: lastResult.ok ? 'result' : 'result error', role: 'status', id: 'action-result' }, lastResult.text);
  const report = (text, ok) => {
    lastResult = { text, ok };
    const node = document.getElementById('action-result');
    if (node) { node.className = ok ? 'result' : 'result error'; node.textContent = text; }
  };
  const send = async (kind) => {
    sessionStorage.setItem('factory-token', token.value);
    report('sending…', true);
    try {
      const response = await fetch(`/api/actions/${kind}`, {
        method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Factory-Token': token.value },
        body: JSON.stringify({ ...target, run: kind === 'cancel' ? cancelRun : undefined }),
      });
      const body = await response.json().catch(() => ({}));
      report(response.ok ? `accepted: ${body.message}` : `refused (${response.status}): ${body.error || ''}`, response.ok);
    } catch (error) {
      report(`not sent: ${error.message}`, false);
    }
  };
  return el('section', { class: 'panel', 'aria-labelledby': 'actions-title' },
    el('h2', { id: 'actions-title' }, 'Actions'),
    el('div', { class: 'actions' },
      el('label', { for: 'token' }, 'Token ', token),
      el('button', { type: 'button', id: 'action-run', onclick: () => send('run') }, 'Run now'),
      canCancel ? el('button', { type: 'button', class: 'secondary', id: 'action-cancel', onclick: () => send('cancel') }, cancelRun ? `Cancel run ${cancelRun}` : 'Cancel run') : null),
    result);
}

async function resourcePage(ws, type, name) {
  setTitle(`${ws}/${name}`);
  const data = await getJSON(`/api/resources/${seg(ws)}/${seg(type)}/${seg(name)}`);
  const r = data.resource;
  const vendor = r.vendorRows ? r.vendorRows.map((row) => [row.label, row.value])
    : r.vendor && typeof r.vendor === 'object' ? Object.entries(r.vendor).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]) : [];
  const drift = r.lastDrift;
  const activeRun = (data.pipelineRuns || []).find((run) => !['succeeded', 'failed', 'cancelled', 'skipped', 'warning'].includes(run.state));
  const canCancel = type === 'pipeline' ? Boolean(activeRun) : Boolean(r.currentRun) && r.canCancel !== false;
  show(
    el('p', { class: 'crumbs' }, el('a', { href: '/' }, 'Resources'), ` / ${ws} / ${type}`),
    el('h1', {}, r.name, ' ', badge(r.status), ' ', badge(r.runtime)),
    data.note ? el('p', { class: 'muted', role: 'note' }, data.note) : null,
    unreadableList(data.unreadable),
    actionPanel({ workspace: ws, type, name }, canCancel, activeRun && activeRun.id),
    r.lastError ? el('section', { class: 'panel unreadable', id: 'last-error' }, el('h2', {}, 'Last error'), rows([
      ['Reason', r.lastError.reason], ['Message', el('pre', { class: 'message' }, r.lastError.message)], ['Command', r.lastError.commandId], ['At', time(r.lastError.at)],
    ])) : null,
    el('div', { class: 'grid2' }, runSection('Current run', r.currentRun), runSection('Last run', r.lastRun)),
    el('div', { class: 'grid2' },
      el('section', { class: 'panel' }, el('h2', {}, 'Resource'), rows([
        ['Name', r.name], ['Workspace', r.workspace], ['Version', r.version], ['Type', `${r.type} (${r.resourceType})`], ['Owner', r.owner || '-'],
        ['Status', r.status], ['Runtime', r.runtime], ['Generation', `${r.generation} (observed ${r.observedGeneration})`],
        ['Created', time(r.createdAt)], ['Updated', time(r.updatedAt)], ['Deleted', r.deletedAt ? time(r.deletedAt) : undefined],
        ['Last command', command(r.lastCommand)], ['Active command', command(r.activeCommand)],
        ['Lineage', el('a', { href: `/lineage/${seg(ws)}/${seg(type)}/${seg(name)}` }, 'upstream and downstream datasets')],
      ])),
      el('section', { class: 'panel' }, el('h2', {}, 'Vendor'), vendor.length ? rows(vendor) : el('p', { class: 'muted' }, '-'),
        drift ? el('div', {}, el('h2', {}, 'Last drift repair'), rows([['Found', drift.found], ['Repair', drift.repair], ['Kind', drift.kind], ['At', time(drift.at)]])) : null)),
    data.pipelineRuns ? el('section', {}, el('h2', {}, 'Runs'), runTable(data.pipelineRuns)) : null,
    data.history.length ? el('section', {}, el('h2', {}, 'Run history (seen by this console)'), el('div', { class: 'tablewrap' }, el('table', {},
      el('thead', {}, el('tr', {}, ['Run', 'Status', 'Started', 'Finished', 'Error'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, data.history.map((run) => el('tr', {}, el('td', {}, run.id), el('td', {}, badge(run.status)), el('td', {}, time(run.startedAt)),
        el('td', {}, time(run.finishedAt)), el('td', { class: 'error' }, run.error || '')))))) ) : null);
  return {
    wants: (e) => (e.kind === 'resource' && e.workspace === ws && e.name === name && e.type === type) || (e.kind === 'run' && type === 'pipeline' && e.workspace === ws && e.name === name),
    throttle: 500,
  };
}

function runTable(runs) {
  if (runs.length === 0) return el('p', { class: 'muted' }, 'No runs yet.');
  return el('div', { class: 'tablewrap' }, el('table', {},
    el('thead', {}, el('tr', {}, ['Run', 'State', 'Trigger', 'Created', 'Finished', 'Summary'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, runs.map((run) => el('tr', {},
      el('td', {}, el('a', { href: runHref(run.workspace, run.pipeline, run.id) }, run.id)), el('td', {}, badge(run.state)), el('td', {}, run.trigger),
      el('td', {}, time(run.createdAt)), el('td', {}, time(run.finishedAt)), el('td', {}, run.summary))))));
}

// ---- pipelines -----------------------------------------------------------------------------

async function pipelinesPage() {
  setTitle('Pipelines');
  const data = await getJSON('/api/pipelines');
  show(
    el('h1', {}, 'Pipelines'),
    el('div', { class: 'tablewrap' }, el('table', {},
      el('thead', {}, el('tr', {}, ['Name', 'Workspace', 'Status', 'Last run', 'Result', 'Next scheduled'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, data.pipelines.map((p) => el('tr', { 'data-pipeline': `${p.workspace}/${p.name}` },
        el('td', {}, el('a', { href: resourceHref({ workspace: p.workspace, resourceType: 'pipeline', name: p.name }) }, p.name)),
        el('td', {}, p.workspace), el('td', {}, badge(p.status)),
        el('td', {}, p.lastRun ? el('a', { href: runHref(p.workspace, p.name, p.lastRun) }, p.lastRun) : '-', p.lastRunAt ? el('div', { class: 'muted' }, time(p.lastRunAt)) : null),
        el('td', {}, p.result ? badge(p.result) : '-'), el('td', {}, p.nextScheduled ? time(p.nextScheduled) : '-')))))),
    data.pipelines.length === 0 ? el('p', { class: 'muted' }, 'No pipelines yet.') : null,
    unreadableList(data.unreadable));
  return { wants: (e) => e.kind === 'run' || (e.kind === 'resource' && e.type === 'pipeline'), throttle: 1000 };
}

// ---- a pipeline run as a DAG ---------------------------------------------------------------

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) if (value !== undefined && value !== null) node.setAttribute(key, String(value));
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}
const clip = (text, max) => (text && text.length > max ? `${text.slice(0, max - 1)}…` : text || '');

function dag(data, ws, pipeline) {
  const W = 230, H = 62, GAPX = 70, GAPY = 12, TOP = 34, LEFT = 12;
  const columns = new Map();
  for (const stage of data.stages) {
    if (!columns.has(stage.column)) columns.set(stage.column, []);
    columns.get(stage.column).push(stage);
  }
  const place = new Map();
  let height = 0;
  const groups = [];
  for (const [column, stages] of [...columns.entries()].sort((a, b) => a[0] - b[0])) {
    let y = TOP;
    const x = LEFT + column * (W + GAPX);
    for (const stage of stages) {
      const top = y;
      y += 24;
      const boxes = stage.tasks.map((task) => {
        const g = svg('g', { class: `task t-${task.state}`, 'data-task': task.name, 'data-state': task.state, transform: `translate(${x},${y})` },
          svg('title', {}, `${task.name}: ${task.state}${task.attempt ? `, attempt ${task.attempt}` : ''}${task.vendorRunID ? `, vendor run ${task.vendorRunID}` : ''}${task.reason ? ` — ${task.reason}` : ''}`),
          svg('rect', { class: 'box', width: W, height: H, rx: 5 }),
          svg('text', { x: 10, y: 18 }, clip(task.name, 24)),
          svg('text', { x: W - 10, y: 18, 'text-anchor': 'end', class: 'state' }, task.state),
          svg('text', { x: 10, y: 36 }, [task.attempt ? `attempt ${task.attempt}` : 'not started', task.durationSeconds !== undefined && task.durationSeconds !== null ? duration(task.durationSeconds) : ''].filter(Boolean).join(' · ')),
          svg('text', { x: 10, y: 53, class: 'muted' }, task.vendorRunID ? clip(`run ${task.vendorRunID}`, 32) : clip(task.resource || '', 32)));
        y += H + GAPY;
        return g;
      });
      const header = svg('g', { class: 'stage', 'data-stage': stage.name },
        svg('text', { x, y: top + 14, class: 'stage-title' }, `${clip(stage.name, 20)} — ${stage.state}`));
      groups.push(header, ...boxes);
      place.set(stage.name, { x, top, bottom: y - GAPY });
      y += 18;
      height = Math.max(height, y);
    }
  }
  const edges = [];
  for (const stage of data.stages) {
    const to = place.get(stage.name);
    for (const dependency of stage.dependsOn) {
      const from = place.get(dependency);
      if (!from || !to) continue;
      const x1 = from.x + W, y1 = (from.top + from.bottom) / 2 + 12, x2 = to.x, y2 = to.top + 10;
      edges.push(svg('path', { class: 'edge', d: `M${x1},${y1} C${x1 + GAPX / 2},${y1} ${x2 - GAPX / 2},${y2} ${x2 - 4},${y2}`, 'marker-end': 'url(#arrow)' }));
    }
  }
  const width = LEFT * 2 + columns.size * (W + GAPX) - GAPX;
  return svg('svg', { width: Math.max(width, 300), height: Math.max(height, 80), role: 'img', 'aria-labelledby': 'dag-title', id: 'dag' },
    svg('title', { id: 'dag-title' }, `Run ${data.run.id} of ${pipeline}: ${data.run.state}. The task table below lists the same.`),
    svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
      svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#9aa4b5' }))),
    edges, groups);
}

async function runPage(ws, pipeline, id) {
  setTitle(`${pipeline} run ${id}`);
  const data = await getJSON(`/api/pipelines/${seg(ws)}/${seg(pipeline)}/runs/${seg(id)}`);
  const crumbs = el('p', { class: 'crumbs' }, el('a', { href: '/pipelines' }, 'Pipelines'), ' / ',
    el('a', { href: resourceHref({ workspace: ws, resourceType: 'pipeline', name: pipeline }) }, `${ws}/${pipeline}`), ` / run ${id}`);
  if (data.unreadable) {
    show(crumbs, el('h1', {}, `Run ${id}`, ' ', badge('unreadable')), unreadableList([data.unreadable]));
    return { wants: (e) => e.kind === 'run' && e.workspace === ws && e.name === pipeline && e.run === id, throttle: 250 };
  }
  const tasks = data.stages.flatMap((stage) => stage.tasks.map((task) => ({ stage: stage.name, ...task })));
  show(crumbs,
    el('h1', {}, `Run ${data.run.id}`, ' ', el('span', { id: 'run-state' }, badge(data.run.state))),
    el('section', { class: 'panel' }, rows([
      ['Summary', data.run.summary], ['Trigger', data.run.trigger],
      ['Progress', data.progress === undefined || data.progress === null ? '-' :
        el('span', {}, el('progress', { max: 1, value: data.progress, 'aria-label': `${Math.round(data.progress * 100)}% of tasks done` }), ` ${Math.round(data.progress * 100)}%`)],
      ['Created', time(data.run.createdAt)], ['Started', time(data.run.startedAt)], ['Finished', time(data.run.finishedAt)],
      ['Reason', data.reason ? el('span', { class: 'error' }, data.reason) : undefined],
    ])),
    actionPanel({ workspace: ws, type: 'pipeline', name: pipeline }, data.canCancel, data.canCancel ? data.run.id : null),
    data.readable ? el('div', { class: 'dag' }, dag(data, ws, pipeline)) : el('p', { class: 'error' }, 'The run\'s spec cannot be read by this console: tasks are listed without stages.'),
    el('h2', {}, 'Tasks'),
    el('div', { class: 'tablewrap' }, el('table', { id: 'tasks' },
      el('thead', {}, el('tr', {}, ['Stage', 'Task', 'State', 'Attempt', 'Duration', 'Vendor run', 'Resource', 'Reason'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, tasks.map((t) => el('tr', { 'data-task-row': t.name },
        el('td', {}, t.stage), el('td', {}, t.name), el('td', {}, badge(t.state)), el('td', {}, t.attempt || '-'), el('td', {}, duration(t.durationSeconds) || '-'),
        el('td', {}, t.vendorRunID || '-'), el('td', {}, t.resource || '-'), el('td', { class: 'error' }, t.reason || '')))))));
  return { wants: (e) => e.kind === 'run' && e.workspace === ws && e.name === pipeline && e.run === id, throttle: 250 };
}

// ---- lineage -------------------------------------------------------------------------------

async function lineagePage(ws, type, name) {
  setTitle(`Lineage of ${ws}/${name}`);
  const data = await getJSON(`/api/lineage/${seg(ws)}/${seg(type)}/${seg(name)}`);
  const datasets = (title, list) => el('section', { class: 'panel' }, el('h2', {}, title),
    list.length === 0 ? el('p', { class: 'muted' }, 'none') :
      el('ul', { class: 'plain' }, list.map((d) => el('li', { 'data-dataset': d.name },
        el('strong', {}, d.name), el('span', { class: 'muted' }, `  ${d.namespace}`),
        d.columns.length ? el('details', {}, el('summary', {}, `${d.columns.length} columns`), el('p', {}, d.columns.join(', '))) : null))));
  const links = data.columnLineage.length === 0 ? null : el('details', { class: 'panel', id: 'column-lineage' },
    el('summary', {}, `Column lineage (${data.columnLineage.length} columns)`),
    el('div', { class: 'tablewrap' }, el('table', {},
      el('thead', {}, el('tr', {}, ['Output', 'Column', 'From', 'Transformation'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, data.columnLineage.map((c) => el('tr', {}, el('td', {}, c.output), el('td', {}, c.column), el('td', {}, c.sources.join(', ')), el('td', {}, c.transformation || '')))))));
  show(
    el('p', { class: 'crumbs' }, el('a', { href: resourceHref({ workspace: ws, resourceType: type, name }) }, `${ws}/${name}`), ' / lineage'),
    el('h1', {}, `Lineage of ${name}`),
    data.job ? el('p', { class: 'muted' }, `OpenLineage job ${data.job}`) : null,
    data.note ? el('p', { class: 'muted', role: 'note' }, data.note) : null,
    data.tasks.length ? el('p', { id: 'lineage-tasks' }, `Datasets of its tasks: ${data.tasks.join(', ')}`) : null,
    el('div', { class: 'grid2' }, datasets('Upstream (reads)', data.upstream), datasets('Downstream (writes)', data.downstream)),
    links,
    data.runs.length ? el('section', {}, el('h2', {}, 'Recent runs'), el('ul', { class: 'plain panel' }, data.runs.map((run) =>
      el('li', {}, el('code', {}, run.runId), ` ${run.events.join(' → ')} `, run.eventTime ? time(run.eventTime) : null, run.error ? el('div', { class: 'error' }, run.error) : null)))) : null);
  return { wants: (e) => e.kind === 'resource' && e.workspace === ws && e.name === name && e.type === type, throttle: 5000 };
}

// ---- routing and live updates ------------------------------------------------------------

function route() {
  const parts = location.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  for (const link of document.querySelectorAll('[data-nav]')) link.removeAttribute('aria-current');
  const nav = (name) => { const link = document.querySelector(`[data-nav="${name}"]`); if (link) link.setAttribute('aria-current', 'page'); };
  if (parts.length === 0 || (parts[0] === 'resources' && parts.length === 1)) { nav('resources'); return () => resourcesPage(); }
  if (parts[0] === 'resources' && parts.length === 4) { nav('resources'); return () => resourcePage(parts[1], parts[2], parts[3]); }
  if (parts[0] === 'pipelines' && parts.length === 1) { nav('pipelines'); return () => pipelinesPage(); }
  if (parts[0] === 'pipelines' && parts.length === 5 && parts[3] === 'runs') { nav('pipelines'); return () => runPage(parts[1], parts[2], parts[4]); }
  if (parts[0] === 'lineage' && parts.length === 4) return () => lineagePage(parts[1], parts[2], parts[3]);
  return null;
}

async function load() {
  lastLoad = Date.now();
  try {
    // A live reload redraws the page: the focused control (by id) keeps the focus and the caret.
    const active = document.activeElement;
    const focused = active && active.id;
    const caret = active && typeof active.selectionStart === 'number' ? [active.selectionStart, active.selectionEnd] : null;
    const page = await refresh();
    wants = page.wants;
    throttle = page.throttle;
    document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
    const again = focused && document.getElementById(focused);
    if (again) {
      again.focus();
      if (caret && typeof again.setSelectionRange === 'function') { try { again.setSelectionRange(caret[0], caret[1]); } catch (_) { /* not a text field */ } }
    }
  } catch (error) {
    failed(error);
  }
}

let throttle = 1000;
function changed() {
  if (timer) return;
  const wait = Math.max(0, throttle - (Date.now() - lastLoad));
  timer = setTimeout(() => { timer = null; load(); }, wait);
}

function banner(text) {
  const node = document.getElementById('banner');
  node.hidden = !text;
  node.textContent = text || '';
}

function listen() {
  const live = document.getElementById('live');
  const source = new EventSource('/api/events');
  // A browser keeps at most six HTTP/1.1 connections to a host: a page left must give its stream
  // back at once, or the seventh page waits for a connection.
  window.addEventListener('pagehide', () => source.close());
  let hellos = 0;
  const nats = (event) => {
    const data = JSON.parse(event.data);
    // A second hello is a reconnected stream: changes may have been missed meanwhile.
    if (event.type === 'hello' && hellos++ > 0) changed();
    banner(data.connected ? '' : 'NATS is unreachable: the console is reconnecting; what you see may be out of date.');
    live.textContent = data.connected ? 'live' : 'NATS down';
    if (data.connected && event.type === 'nats') changed();
  };
  source.addEventListener('hello', nats);
  source.addEventListener('nats', nats);
  source.addEventListener('change', (event) => { if (wants(JSON.parse(event.data))) changed(); });
  source.addEventListener('open', () => { live.textContent = 'live'; });
  source.addEventListener('error', () => {
    live.textContent = 'reconnecting…';
    banner('The console server is unreachable: reconnecting…');
  });
}

async function start() {
  refresh = route();
  if (!refresh) {
    setTitle('Not found');
    show(el('div', { class: 'notfound' }, el('h1', {}, 'Page not found'), el('p', {}, 'Go to the ', el('a', { href: '/' }, 'resources'), '.')));
    return;
  }
  try { config = await getJSON('/api/config'); } catch (_) { /* read-only */ }
  await load();
  listen();
}

document.addEventListener('DOMContentLoaded', start);
