// Kefu API reference: renders /api/openapi.json (OpenAPI 3.1 from utoipa)
// as a browsable page. No build step, no dependencies beyond the shared DOM
// helpers. Text from the document only ever reaches the page through
// textContent / attributes (see h() in ui.js), never as HTML.

import { h, replace } from '../shared/ui.js';

const SPEC_URL = '/api/openapi.json';
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const MAX_DEPTH = 10; // nesting limit for schema trees, on top of the cycle guard
const OPEN_DEPTH = 3; // nested objects deeper than this start collapsed
const REASONS = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 301: 'Moved Permanently',
  302: 'Found', 304: 'Not Modified', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden',
  404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict', 410: 'Gone', 413: 'Content Too Large',
  415: 'Unsupported Media Type', 422: 'Unprocessable Content', 423: 'Locked', 428: 'Precondition Required',
  429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable',
};

let spec = {};

// --- Text helpers --------------------------------------------------------------

/** Inline text with `code` spans. */
function inline(text) {
  return String(text).split(/(`[^`]+`)/).filter(Boolean)
    .map((part) => (/^`[^`]+`$/.test(part) ? h('code', null, part.slice(1, -1)) : part));
}

/** Paragraphs (split on blank lines) with inline code; null when empty. */
function prose(text, className = 'prose') {
  if (!text || !String(text).trim()) return null;
  return h('div', { class: className },
    String(text).trim().split(/\n\s*\n/).map((para) => h('p', null, inline(para.replace(/\s*\n\s*/g, ' ')))));
}

const methodBadge = (method) => h('span', { class: ['method', `method-${method}`] }, method.toUpperCase());

/** A path with its {parameters} highlighted and line breaks allowed after each `/`. */
function pathText(path, className = 'op-path') {
  return h('code', { class: className },
    path.split(/(\{[^}]+\}|\/)/).filter(Boolean).map((seg) => {
      if (seg === '/') return ['/', h('wbr')];
      return seg.startsWith('{') ? h('span', { class: 'path-param' }, seg) : seg;
    }));
}

// --- References and schemas ----------------------------------------------------

/** Resolve an internal JSON pointer such as `#/components/schemas/Agent`. */
function lookup(ref) {
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return undefined;
  let node = spec;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(key in node)) return undefined;
    node = node[key];
  }
  return node;
}

/** Follow a $ref (parameters, request bodies, responses); siblings override the target. */
function deref(obj) {
  const seen = new Set();
  let out = obj || {};
  while (out.$ref && !seen.has(out.$ref)) {
    seen.add(out.$ref);
    const { $ref, ...rest } = out;
    out = { ...(lookup($ref) || {}), ...rest };
  }
  return out;
}

const refName = (ref) => decodeURIComponent(ref.split('/').pop());
const isNullSchema = (s) => !!s && !s.$ref && (s.type === 'null' || (Array.isArray(s.type) && s.type.length === 1 && s.type[0] === 'null'));

/**
 * A normalised view of a schema: $refs followed (cycle-checked along the
 * current path in `seen`), `null` folded into a nullable flag.
 */
function view(raw, seen = new Set()) {
  let s = raw && typeof raw === 'object' ? raw : {};
  let name = null;
  const path = new Set(seen);
  const overrides = {};
  while (s.$ref) {
    const { $ref, ...siblings } = s;
    for (const [k, v] of Object.entries(siblings)) if (!(k in overrides)) overrides[k] = v;
    name = name || refName($ref);
    if (path.has($ref)) return { schema: overrides, name, types: [], nullable: false, seen: path, cyclic: true };
    path.add($ref);
    const target = lookup($ref);
    if (!target || typeof target !== 'object') return { schema: overrides, name: `${name} (unresolved)`, types: [], nullable: false, seen: path };
    s = target;
  }
  s = { ...s, ...overrides };
  let types = s.type === undefined ? [] : [].concat(s.type);
  let nullable = s.nullable === true || (types.includes('null') && types.length > 1);
  if (types.length > 1) types = types.filter((x) => x !== 'null');
  for (const key of ['oneOf', 'anyOf']) {
    if (!Array.isArray(s[key]) || !s[key].some(isNullSchema)) continue;
    nullable = true;
    const rest = s[key].filter((x) => !isNullSchema(x));
    if (rest.length === 1 && !types.length && !s.properties) {
      // `oneOf: [null, X]` is just a nullable X; keep the outer description.
      const { [key]: _drop, ...outer } = s;
      const inner = view(rest[0], path);
      return { ...inner, nullable: true, name: inner.name || name, schema: { ...inner.schema, ...outer } };
    }
    s = { ...s, [key]: rest };
  }
  return { schema: s, name, types, nullable, seen: path, cyclic: false };
}

/** allOf parts merged into one object schema when they are all objects; else null. */
function mergeAllOf(v) {
  const parts = v.schema.allOf.map((p) => {
    const part = view(p, v.seen);
    return Array.isArray(part.schema.allOf) ? mergeAllOf(part) : part;
  });
  if (parts.some((p) => !p || p.cyclic || p.schema.oneOf || p.schema.anyOf || (p.types.length && !p.types.includes('object')))) return null;
  const { allOf: _drop, ...own } = v.schema;
  const merged = { ...own, type: 'object', properties: { ...(own.properties || {}) }, required: [...(own.required || [])] };
  for (const p of parts) {
    Object.assign(merged.properties, p.schema.properties || {});
    merged.required.push(...(p.schema.required || []));
    if (!merged.description && p.schema.description) merged.description = p.schema.description;
  }
  return { ...v, schema: merged, types: ['object'] };
}

const isArray = (v) => v.types.includes('array') || (!v.types.length && v.schema.items !== undefined);

/** A short type label: `string <date-time>`, `array of Agent`, `Role · string`. */
function typeLabel(v, guard = 0) {
  if (v.cyclic) return `${v.name} (circular)`;
  const s = v.schema;
  let base;
  if (isArray(v)) {
    const item = view(s.items, v.seen);
    const inner = item.name ? `${item.name}${item.cyclic ? ' (circular)' : ''}` : (guard > 3 ? 'any' : typeLabel(item, guard + 1));
    base = `array of ${inner}`;
  } else if (v.types.length) base = v.types.join(' | ') + (s.format ? ` <${s.format}>` : '');
  else if (s.properties || s.additionalProperties) base = 'object';
  else if (s.oneOf) base = 'one of';
  else if (s.anyOf) base = 'any of';
  else if (s.allOf) base = 'all of';
  else if (s.enum) base = 'enum';
  else if ('const' in s) base = 'const';
  else base = v.nullable ? 'null' : 'any';
  return v.name ? `${v.name} · ${base}` : base;
}

const json = (value) => (typeof value === 'string' ? value : JSON.stringify(value));

/** Enum values, defaults, limits and examples of a schema, as small notes. */
function facts(s) {
  const out = [];
  if (Array.isArray(s.enum)) out.push(h('div', { class: 'fact' }, 'Values: ', s.enum.map((e) => h('code', { class: 'enum-value' }, json(e)))));
  if ('const' in s) out.push(h('div', { class: 'fact' }, 'Always ', h('code', null, json(s.const))));
  const limits = [['default', 'default'], ['minimum', 'min'], ['maximum', 'max'], ['exclusiveMinimum', '>'], ['exclusiveMaximum', '<'],
    ['minLength', 'min length'], ['maxLength', 'max length'], ['minItems', 'min items'], ['maxItems', 'max items'], ['pattern', 'pattern']]
    .filter(([k]) => s[k] !== undefined && !(k.startsWith('exclusive') && typeof s[k] === 'boolean'));
  if (limits.length) out.push(h('div', { class: 'fact' }, limits.map(([k, label], i) => [i ? ' · ' : '', `${label} `, h('code', null, json(s[k]))])));
  const example = s.example !== undefined ? s.example : (Array.isArray(s.examples) ? s.examples[0] : undefined);
  if (example !== undefined) out.push(h('div', { class: 'fact' }, 'Example: ', h('code', null, json(example))));
  return out;
}

/** The child rows of a schema: properties, map values, or oneOf/anyOf/allOf variants. */
function children(v, depth) {
  if (v.cyclic || depth > MAX_DEPTH) return [];
  if (isArray(v)) {
    const item = view(v.schema.items, v.seen);
    return children(Array.isArray(item.schema.allOf) ? mergeAllOf(item) || item : item, depth);
  }
  if (Array.isArray(v.schema.allOf)) {
    return v.schema.allOf.map((p, i) => field(`all of #${i + 1}`, p, { seen: v.seen, depth, variant: true }));
  }
  const s = v.schema;
  const rows = [];
  const required = new Set(Array.isArray(s.required) ? s.required : []);
  for (const [name, prop] of Object.entries(s.properties || {})) {
    rows.push(field(name, prop, { required: required.has(name), seen: v.seen, depth }));
  }
  if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    rows.push(field('{key}', s.additionalProperties, { seen: v.seen, depth, variant: true }));
  }
  for (const key of ['oneOf', 'anyOf']) {
    if (!Array.isArray(s[key])) continue;
    const word = key === 'oneOf' ? 'one of' : 'any of';
    s[key].forEach((p, i) => rows.push(field(`${word} #${i + 1}`, p, { seen: v.seen, depth, variant: true })));
  }
  return rows;
}

/**
 * One node of a schema tree. `name` is the property name (null for the
 * root); nested objects can be folded with the toggle button.
 */
function field(name, raw, { required = false, seen, depth = 0, variant = false } = {}) {
  let v = view(raw, seen);
  if (Array.isArray(v.schema.allOf)) v = mergeAllOf(v) || v;
  const s = v.schema;
  const kids = children(v, depth + 1);
  const list = kids.length ? h('ul', { class: 'schema-children' }, kids) : null;
  let toggle = null;
  if (list && name !== null) {
    const open = depth < OPEN_DEPTH;
    list.hidden = !open;
    toggle = h('button', {
      type: 'button', class: 'tree-toggle', 'aria-expanded': String(open), 'aria-label': `Show or hide the fields of ${name}`,
      onClick: () => {
        list.hidden = !list.hidden;
        toggle.setAttribute('aria-expanded', String(!list.hidden));
      },
    });
  }
  return h('li', { class: ['schema-field', name === null && 'is-root'], testid: 'schema-field', dataset: { name: name ?? undefined } },
    h('div', { class: 'field-head' },
      toggle,
      name !== null ? h('code', { class: ['field-name', variant && 'is-variant'], testid: 'field-name' }, name) : null,
      h('span', { class: 'field-type' }, typeLabel(v)),
      v.nullable ? h('span', { class: 'tag tag-muted' }, 'nullable') : null,
      required ? h('span', { class: 'tag tag-required' }, 'required') : null,
      s.readOnly ? h('span', { class: 'tag tag-muted' }, 'read-only') : null,
      s.writeOnly ? h('span', { class: 'tag tag-muted' }, 'write-only') : null,
      s.deprecated ? h('span', { class: 'tag tag-warning' }, 'deprecated') : null),
    prose(s.description || s.title, 'field-desc'),
    facts(s),
    list);
}

function schemaTree(schema) {
  return h('ul', { class: 'schema-tree' }, field(null, schema));
}

// --- Operations ------------------------------------------------------------------

function collectOperations() {
  const ops = [];
  const ids = new Set();
  for (const [path, rawItem] of Object.entries(spec.paths || {})) {
    const item = deref(rawItem);
    for (const method of HTTP_METHODS) {
      if (!item[method]) continue;
      const op = item[method];
      // Operation parameters override path-level ones with the same name and location.
      const params = new Map();
      for (const p of [...(item.parameters || []), ...(op.parameters || [])].map(deref)) params.set(`${p.in}:${p.name}`, p);
      let id = op.operationId || `${method}-${path}`.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/-+$/, '');
      while (ids.has(id)) id += '_';
      ids.add(id);
      ops.push({ id, method, path, op, params: [...params.values()], tags: op.tags && op.tags.length ? op.tags : ['default'] });
    }
  }
  return ops;
}

function groupByTag(ops) {
  const groups = new Map();
  for (const tag of spec.tags || []) groups.set(tag.name, { tag, ops: [] });
  for (const o of ops) {
    for (const name of o.tags) {
      if (!groups.has(name)) groups.set(name, { tag: { name }, ops: [] });
      groups.get(name).ops.push(o);
    }
  }
  return [...groups.values()].filter((g) => g.ops.length);
}

function parametersTable(params) {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'params', testid: 'parameters' },
    h('thead', null, h('tr', null, ['Name', 'In', 'Required', 'Type', 'Description'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', null, params.map((p) => {
      const v = view(p.schema || (p.content && Object.values(p.content)[0]?.schema));
      return h('tr', null,
        h('td', null, h('code', { class: 'field-name' }, p.name), p.deprecated ? h('span', { class: 'tag tag-warning' }, 'deprecated') : null),
        h('td', null, p.in),
        h('td', null, p.required ? h('span', { class: 'tag tag-required' }, 'required') : h('span', { class: 'muted' }, 'optional')),
        h('td', null, h('span', { class: 'field-type' }, typeLabel(v)), v.nullable ? h('span', { class: 'tag tag-muted' }, 'nullable') : null),
        h('td', null, prose(p.description || v.schema.description, 'field-desc'), facts(v.schema)));
    }))));
}

/** Media types and their schemas, for a request body or a response. */
function contentBlock(content) {
  return Object.entries(content || {}).map(([type, media]) => h('div', { class: 'media' },
    h('div', { class: 'media-type' }, h('code', null, type)),
    media && media.schema ? schemaTree(media.schema) : h('p', { class: 'muted' }, 'No schema.')));
}

function requestBody(raw) {
  const body = deref(raw);
  return h('section', { class: 'op-section', testid: 'request-body' },
    h('h4', null, 'Request body ', h('span', { class: body.required ? 'tag tag-required' : 'tag tag-muted' }, body.required ? 'required' : 'optional')),
    prose(body.description),
    contentBlock(body.content));
}

function responses(all) {
  return h('section', { class: 'op-section', testid: 'responses' },
    h('h4', null, 'Responses'),
    Object.entries(all).map(([status, raw]) => {
      const res = deref(raw);
      const cls = /^[1-5]/.test(status) ? `status-${status[0]}xx` : 'status-default';
      const text = res.description || REASONS[status] || (status === 'default' ? 'Any other status' : '');
      const head = [h('span', { class: ['status', cls] }, status), h('span', { class: 'response-desc' }, inline(text))];
      const hasBody = res.content && Object.keys(res.content).length;
      if (!hasBody) return h('div', { class: 'response', testid: 'response', dataset: { status } }, h('div', { class: 'response-head' }, head, h('span', { class: 'muted' }, 'No body')));
      const name = Object.values(res.content).map((m) => m && m.schema && view(m.schema).name).find(Boolean);
      return h('details', { class: 'response', testid: 'response', dataset: { status }, open: status.startsWith('2') },
        h('summary', { class: 'response-head' }, head, name ? h('code', { class: 'response-schema' }, name) : null),
        contentBlock(res.content));
    }));
}

function operationView(o) {
  const { op } = o;
  return h('article', { class: 'op', id: o.id, testid: 'operation', dataset: { method: o.method.toUpperCase(), path: o.path } },
    h('header', { class: 'op-head' },
      methodBadge(o.method), pathText(o.path),
      op.deprecated ? h('span', { class: 'tag tag-warning' }, 'deprecated') : null,
      h('a', { class: 'op-anchor', href: `#${encodeURIComponent(o.id)}`, title: 'Link to this operation', 'aria-label': `Link to ${o.method.toUpperCase()} ${o.path}` }, '#')),
    op.summary ? h('h3', { class: 'op-summary' }, inline(op.summary)) : null,
    prose(op.description),
    op.operationId ? h('p', { class: 'op-meta' }, 'Operation ID ', h('code', null, op.operationId)) : null,
    o.params.length ? h('section', { class: 'op-section' }, h('h4', null, 'Parameters'), parametersTable(o.params)) : null,
    op.requestBody ? requestBody(op.requestBody) : null,
    op.responses ? responses(op.responses) : null);
}

// --- Page --------------------------------------------------------------------------

const sidebar = document.getElementById('sidebar');
const navGroups = sidebar.querySelector('.nav-groups');
const navEmpty = sidebar.querySelector('.nav-empty');
const filterInput = sidebar.querySelector('.filter');
const navToggle = document.querySelector('.nav-toggle');
const content = document.getElementById('top');

function setNavOpen(open) {
  sidebar.classList.toggle('is-open', open);
  navToggle.setAttribute('aria-expanded', String(open));
}

function renderNav(groups) {
  replace(navGroups, groups.map((g) => h('section', { class: 'nav-group' },
    h('h2', { class: 'nav-group-title' }, g.tag.name),
    h('ul', { class: 'nav-list' }, g.ops.map((o) => h('li', null,
      h('a', {
        class: 'nav-link', href: `#${encodeURIComponent(o.id)}`, title: o.op.summary || o.id, testid: 'nav-op',
        dataset: { id: o.id, method: o.method.toUpperCase(), path: o.path, search: [o.method, o.path, o.op.summary, o.id, g.tag.name].join(' ').toLowerCase() },
        onClick: () => setNavOpen(false),
      }, methodBadge(o.method), pathText(o.path, 'nav-path'))))))));
}

function applyFilter() {
  const terms = filterInput.value.toLowerCase().split(/\s+/).filter(Boolean);
  let any = false;
  for (const group of navGroups.querySelectorAll('.nav-group')) {
    let visible = 0;
    for (const link of group.querySelectorAll('.nav-link')) {
      const match = terms.every((term) => link.dataset.search.includes(term));
      link.parentElement.hidden = !match;
      if (match) visible += 1;
    }
    group.hidden = visible === 0;
    any = any || visible > 0;
  }
  navEmpty.hidden = any;
}

function currentId() {
  try {
    return decodeURIComponent(location.hash.slice(1));
  } catch {
    return '';
  }
}

function syncHash({ scroll } = {}) {
  const id = currentId();
  for (const link of navGroups.querySelectorAll('.nav-link')) {
    const active = link.dataset.id === id;
    link.classList.toggle('is-active', active);
    if (!active) {
      link.removeAttribute('aria-current');
      continue;
    }
    link.setAttribute('aria-current', 'location');
    const box = link.getBoundingClientRect();
    const pane = sidebar.getBoundingClientRect();
    if (box.top < pane.top || box.bottom > pane.bottom) sidebar.scrollTop += box.top - pane.top - pane.height / 2;
  }
  const target = id && document.getElementById(id);
  if (scroll && target) target.scrollIntoView();
}

function render() {
  const info = spec.info || {};
  const title = info.title || 'API';
  document.title = `${title} reference`;
  document.querySelector('.topbar-title').textContent = title;
  document.querySelector('.topbar-version').textContent = info.version ? `v${info.version}` : '';

  const ops = collectOperations();
  const groups = groupByTag(ops);
  renderNav(groups);

  const rendered = new Set();
  replace(content,
    h('section', { class: 'intro' },
      h('h1', { testid: 'apidocs-heading' }, title),
      h('p', { class: 'op-meta' },
        [info.version && `Version ${info.version}`, spec.openapi && `OpenAPI ${spec.openapi}`, info.license && info.license.name && `License ${info.license.name}`,
          `${ops.length} operations`].filter(Boolean).join(' · ')),
      prose(info.description)),
    groups.map((g) => {
      const fresh = g.ops.filter((o) => !rendered.has(o.id));
      fresh.forEach((o) => rendered.add(o.id));
      if (!fresh.length) return null;
      return h('section', { class: 'tag-section', testid: 'tag-section', dataset: { tag: g.tag.name } },
        h('h2', { class: 'tag-title' }, g.tag.name),
        prose(g.tag.description),
        fresh.map(operationView));
    }));
  applyFilter();
  syncHash({ scroll: true });
}

async function main() {
  filterInput.addEventListener('input', applyFilter);
  navToggle.addEventListener('click', () => setNavOpen(!sidebar.classList.contains('is-open')));
  window.addEventListener('hashchange', () => syncHash());
  try {
    const res = await fetch(SPEC_URL, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
    spec = await res.json();
  } catch (err) {
    replace(content, h('div', { class: 'load-error', role: 'alert', testid: 'apidocs-error' },
      h('h1', null, 'Could not load the API description'),
      h('p', null, `${SPEC_URL}: ${err && err.message ? err.message : err}`)));
    return;
  }
  render();
}

main();
