// The Payrail console page: signs in, follows the console's Server-Sent Events (one snapshot per second) and
// renders them. Plain DOM, no framework, no build step. Everything shown is set with textContent (never parsed as
// HTML); actions send the session's CSRF token. The server checks roles: disabled buttons are only a courtesy.

const STAGES = ['ingest', 'signing', 'fraud-check', 'settlement'];
const STAGE_TITLES = { ingest: 'Ingest', signing: 'Signing', 'fraud-check': 'Fraud check', settlement: 'Settlement' };
const OUTCOMES = {
  ingest: ['accepted', 'rejected'],
  signing: ['signed'],
  'fraud-check': ['approve', 'review', 'decline', 'analyst_approve', 'analyst_decline'],
  settlement: ['settled'],
};

let session;
let stream;

const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = String(value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== undefined && child !== null) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

const svg = (tag, attrs = {}) => {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
};

function fill(tbody, rows, empty) {
  tbody.replaceChildren(...(rows.length > 0 ? rows : [el('tr', { class: 'empty' }, el('td', { colspan: tbody.closest('table').querySelectorAll('th').length, text: empty }))]));
}

const time = (iso) => (iso ? new Date(iso).toLocaleTimeString('en-GB', { hour12: false }) : '');
const dateTime = (iso) => (iso ? new Date(iso).toLocaleString('sv-SE') : '');
const short = (id) => (id && id.length > 13 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id ?? '');
const amount = (a) => (a ? `${a.display} ${a.currency}` : '');
const sum = (values) => values.reduce((a, b) => a + b, 0);

async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && session) headers['x-csrf-token'] = session.csrf_token;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

function toast(message, kind = 'info') {
  const box = $('toast');
  box.textContent = message;
  box.className = `toast ${kind}`;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (box.hidden = true), 5000);
}

// ---- session ---------------------------------------------------------------------------------------------------

function showSignIn(message = '') {
  stream?.close();
  stream = undefined;
  session = undefined;
  $('console-view').hidden = true;
  $('who').hidden = true;
  $('sign-in-view').hidden = false;
  $('sign-in-error').textContent = message;
  $('stream-state').textContent = 'signed out';
}

function showConsole() {
  $('sign-in-view').hidden = true;
  $('console-view').hidden = false;
  $('who').hidden = false;
  $('who-name').textContent = session.username;
  $('who-role').textContent = session.role;
  $('who-role').className = `badge role-${session.role}`;
  document.body.dataset.role = session.role;
  connect();
}

async function signIn(event) {
  event.preventDefault();
  const form = event.target;
  const res = await api('POST', '/api/session', { username: form.username.value, password: form.password.value });
  form.password.value = '';
  if (res.status === 200) {
    session = res.body;
    showConsole();
  } else {
    $('sign-in-error').textContent = res.body?.detail ?? `sign-in failed (${res.status})`;
  }
}

async function signOut() {
  await api('DELETE', '/api/session');
  showSignIn('Signed out.');
}

function connect() {
  stream?.close();
  stream = new EventSource('/api/stream');
  stream.addEventListener('open', () => ($('stream-state').textContent = 'live'));
  stream.addEventListener('snapshot', (event) => render(JSON.parse(event.data)));
  stream.addEventListener('error', async () => {
    $('stream-state').textContent = 'reconnecting…';
    const res = await api('GET', '/api/session');
    if (res.status === 401) showSignIn('Your session ended. Sign in again.');
  });
}

// ---- actions ---------------------------------------------------------------------------------------------------

async function decide(paymentId, decision, button) {
  button.disabled = true;
  const res = await api('POST', `/api/reviews/${paymentId}/decision`, { decision });
  if (res.status === 200) toast(`${decision === 'APPROVE' ? 'Approved' : 'Declined'} ${short(paymentId)} (${res.body.outcome.replace('_', ' ')})`, 'ok');
  else toast(res.body?.detail ?? `refused (${res.status})`, 'error');
  button.disabled = false;
}

async function replay(ref, button) {
  button.disabled = true;
  const res = await api('POST', '/api/dead-letters/replay', { ref });
  if (res.status === 200) toast(`Replay ${ref}: ${res.body.status}${res.body.target ? ` → ${res.body.target}` : ''}${res.body.detail ? ` (${res.body.detail})` : ''}`, res.body.status === 'replayed' || res.body.status === 'already-replayed' ? 'ok' : 'error');
  else toast(res.body?.detail ?? `refused (${res.status})`, 'error');
  button.disabled = false;
}

// ---- rendering -------------------------------------------------------------------------------------------------

function sparkline(series) {
  const width = 120;
  const height = 28;
  const max = Math.max(1, ...series);
  const step = width / Math.max(1, series.length - 1);
  const points = series.map((v, i) => `${(i * step).toFixed(1)},${(height - (v / max) * (height - 2) - 1).toFixed(1)}`).join(' ');
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, class: 'spark', 'aria-hidden': 'true' });
  chart.append(svg('polyline', { points, fill: 'none', 'stroke-width': 1.5 }));
  return chart;
}

function renderStages(snapshot) {
  const lagByStage = Object.fromEntries((snapshot.lag.stages ?? []).map((s) => [s.stage, s]));
  const cards = STAGES.flatMap((stage, index) => {
    const view = snapshot.flow.stages[stage];
    const total = sum(Object.values(view.outcomes));
    const lag = lagByStage[stage];
    const card = el(
      'div',
      { class: 'stage', 'data-stage': stage },
      el('h3', { text: STAGE_TITLES[stage] }),
      el('div', { class: 'big', 'data-testid': `stage-${stage}-total`, text: total }),
      el('ul', { class: 'outcomes' }, OUTCOMES[stage].filter((o) => view.outcomes[o] !== undefined || !o.startsWith('analyst')).map((o) =>
        el('li', { class: `o-${o}` }, el('span', { text: o.replace('_', ' ') }), el('b', { 'data-testid': `stage-${stage}-${o}`, text: view.outcomes[o] ?? 0 })),
      )),
      el('div', { class: 'rate' }, sparkline(view.series), el('span', { 'data-testid': `stage-${stage}-rate`, text: `${view.perSecond.toFixed(1)}/s` })),
      el('div', { class: `lag ${lag && BigInt(lag.lag) > 0n ? 'behind' : ''}`, title: lag ? lag.groups.map((g) => `${g.group_id}: ${g.lag}`).join('\n') : '' }, 'lag ', el('b', { 'data-testid': `stage-${stage}-lag`, text: lag ? lag.lag : '–' })),
    );
    return index < STAGES.length - 1 ? [card, el('div', { class: 'arrow', 'aria-hidden': 'true', text: '→' })] : [card];
  });
  $('stages').replaceChildren(...cards);
  $('since').textContent = `since ${time(snapshot.flow.since)} · throughput over ${snapshot.flow.window_s} s${snapshot.lag.error ? ` · ${snapshot.lag.error}` : ''}`;
}

function renderFraud(fraud) {
  const d = fraud.decisions;
  $('decisions').replaceChildren(
    ...['APPROVE', 'REVIEW', 'DECLINE'].map((k) => el('div', { class: `decision d-${k.toLowerCase()}` }, el('b', { 'data-testid': `decision-${k}`, text: d[k] }), el('span', { text: k }))),
    el('div', { class: 'decision analyst' }, el('b', { text: `${fraud.analyst.APPROVE} / ${fraud.analyst.DECLINE}` }), el('span', { text: 'analyst approve / decline' })),
  );
  const max = Math.max(1, ...fraud.topRules.map((r) => r.count));
  const rows = fraud.topRules.map((r) => {
    const bar = svg('svg', { viewBox: '0 0 100 8', preserveAspectRatio: 'none', class: 'rulebar', 'aria-hidden': 'true' });
    bar.append(svg('rect', { x: 0, y: 0, height: 8, width: ((r.count / max) * 100).toFixed(1) }));
    return el('div', { class: 'bar-row' }, el('code', { text: r.rule }), bar, el('b', { text: r.count }));
  });
  $('rules').replaceChildren(...(rows.length > 0 ? rows : [el('p', { class: 'note', text: 'No rule has fired yet.' })]));
}

function renderReviews(reviews) {
  $('reviews-total').textContent = reviews.total;
  $('reviews-total').className = `count ${reviews.total > 0 ? '' : 'zero'}`;
  const canAct = session?.can_act && reviews.can_decide;
  // the newest first: a payment that has just gone to REVIEW is at the top (the items come oldest first)
  const shown = reviews.items.slice(-10).reverse();
  const more = reviews.total > shown.length ? ` Showing the newest ${shown.length} of ${reviews.total}.` : '';
  $('reviews-source').textContent = `Source: ${reviews.source}.${more}${reviews.error ? ` ${reviews.error}` : ''}${session?.can_act ? '' : ' Viewers cannot decide.'}`;
  fill(
    $('reviews-body'),
    shown.map((r) =>
      el(
        'tr',
        { 'data-payment-id': r.payment_id },
        el('td', { title: r.payment_id }, el('code', { text: short(r.payment_id) })),
        el('td', { text: r.merchant_id }),
        el('td', { class: 'num', text: amount(r.amount) }),
        el('td', { class: 'rules', text: r.rules.join(', ') }),
        el(
          'td',
          { class: 'actions' },
          el('button', { type: 'button', class: 'approve', disabled: !canAct, 'data-action': 'approve', onclick: (e) => decide(r.payment_id, 'APPROVE', e.currentTarget), text: 'Approve' }),
          el('button', { type: 'button', class: 'decline', disabled: !canAct, 'data-action': 'decline', onclick: (e) => decide(r.payment_id, 'DECLINE', e.currentTarget), text: 'Decline' }),
        ),
      ),
    ),
    'No payment is waiting for an analyst.',
  );
}

function renderRecent(recent) {
  fill(
    $('recent-body'),
    recent.slice(0, 12).map((e) =>
      el('tr', { 'data-payment-id': e.payment_id, 'data-outcome': e.outcome }, el('td', { text: time(e.at) }), el('td', { title: e.payment_id }, el('code', { text: short(e.payment_id) })), el('td', { text: STAGE_TITLES[e.stage] }), el('td', {}, el('span', { class: `pill p-${e.outcome.toLowerCase().replace(' ', '-')}`, text: e.outcome })), el('td', { text: e.merchant_id ?? '' }), el('td', { class: 'num', text: amount(e.amount) })),
    ),
    'Waiting for payments…',
  );
}

function renderSettlement(flow, ledger) {
  fill(
    $('totals-body'),
    flow.settlement.totals.map((t) => el('tr', {}, el('td', { text: t.currency }), el('td', { class: 'num', 'data-testid': `settled-${t.currency}`, text: t.payments }), el('td', { class: 'num', text: t.gross.display }), el('td', { class: 'num', text: t.fees.display }), el('td', { class: 'num', text: t.net.display }))),
    'Nothing settled yet.',
  );
  const batches = ledger.available && ledger.batches.length > 0
    ? ledger.batches.map((b) => ({ id: b.batch_id, status: b.status, payments: b.payments, net: amount(b.net), kid: flow.settlement.batches.find((o) => o.batch_id === b.batch_id)?.kid }))
    : flow.settlement.batches.map((b) => ({ id: b.batch_id, status: b.status, payments: b.report?.payments ?? '', net: b.report ? amount(b.report.net) : '', kid: b.kid }));
  fill($('batches-body'), batches.slice(0, 10).map((b) => el('tr', { 'data-batch-id': b.id }, el('td', {}, el('code', { text: b.id })), el('td', {}, el('span', { class: `pill p-${b.status}`, text: b.status })), el('td', { class: 'num', text: b.payments }), el('td', { class: 'num', text: b.net }), el('td', {}, el('code', { text: b.kid ?? '' })))), 'No batch closed yet.');
  $('ledger-note').textContent = ledger.available ? `Source: ${ledger.source}.${ledger.error ? ` ${ledger.error}` : ''}` : ledger.reason;
  fill(
    $('balances-body'),
    ledger.balances.map((b) => el('tr', {}, el('td', { text: b.merchant_id ?? 'all merchants' }), el('td', { text: b.currency }), el('td', { class: 'accounts', text: Object.entries(b.accounts).map(([k, v]) => `${k} ${v.display}`).join(' · ') }))),
    ledger.available ? 'No balances yet.' : '—',
  );
}

function renderDeadLetters(snapshot) {
  const seen = snapshot.flow.deadLetters.seen;
  const retained = snapshot.lag.dead_letters_retained ?? {};
  $('dlq-stages').replaceChildren(...STAGES.map((s) => el('span', { class: `chip ${Number(retained[s] ?? seen[s]) > 0 ? 'warn' : ''}` }, `${STAGE_TITLES[s]} `, el('b', { 'data-testid': `dlq-${s}`, text: retained[s] ?? seen[s] }))));
  const canReplay = session?.can_act && snapshot.replay.available;
  $('replay-note').textContent = snapshot.replay.available ? (session?.can_act ? '' : 'Viewers cannot replay.') : `Replay: ${snapshot.replay.reason}.`;
  fill(
    $('dlq-body'),
    snapshot.flow.deadLetters.recent.slice(0, 10).map((d) =>
      el(
        'tr',
        { 'data-ref': d.ref, 'data-original': d.original_topic ? `${d.original_topic}/${d.original_partition}/${d.original_offset}` : '' },
        el('td', { text: time(d.dead_lettered_at) }),
        el('td', { text: STAGE_TITLES[d.stage] }),
        el('td', { class: 'why', title: d.error_message ?? '' }, el('code', { text: d.error_class ?? '?' }), ` ${d.error_message ?? ''}`),
        el('td', { title: d.ref }, el('code', { text: d.original_topic ? `${d.original_topic.replace('payrail.', '')}/${d.original_partition}/${d.original_offset}` : '?' })),
        el('td', {}, el('button', { type: 'button', disabled: !canReplay, 'data-action': 'replay', onclick: (e) => replay(d.ref, e.currentTarget), text: 'Replay' })),
      ),
    ),
    'No dead letters.',
  );
}

function renderKeys(keys) {
  $('keys-note').textContent = keys.error ?? (keys.source ? `Published at ${keys.source}${keys.fetched_at ? `, read ${time(keys.fetched_at)}` : ''}.` : 'No SIGNING_JWKS_URL: keys seen in use only.');
  fill(
    $('keys-body'),
    keys.keys.map((k) =>
      el(
        'tr',
        { 'data-kid': k.kid },
        el('td', { title: `kid ${k.kid}${k.thumbprint ? `\nthumbprint ${k.thumbprint}` : ''}` }, el('code', { text: short(k.kid) })),
        el('td', { text: k.use ?? '' }),
        el('td', {}, el('span', { class: `pill k-${k.state}`, 'data-testid': `key-state-${k.kid}`, text: k.state })),
        el('td', { text: [k.alg, k.crv].filter(Boolean).join(' ') }),
        el('td', { text: k.signs.join(', ') }),
        el('td', { class: 'num', text: k.uses }),
      ),
    ),
    'No key known yet.',
  );
}

function renderAlerts(alerts) {
  const total = sum(Object.values(alerts.counts));
  $('alerts-total').textContent = total;
  $('alerts-total').className = `count ${total > 0 ? 'alert' : 'zero'}`;
  fill($('alerts-body'), alerts.recent.slice(0, 8).map((a) => el('tr', {}, el('td', { text: time(a.raised_at) }), el('td', {}, el('span', { class: 'pill p-decline', text: a.alert })), el('td', { text: a.service }), el('td', { class: 'why', title: a.detail, text: a.detail }))), 'No security alert. Good.');
}

function renderAudit(audit) {
  fill(
    $('audit-body'),
    audit.slice(0, 12).map((a) =>
      el(
        'tr',
        { 'data-operator': a.operator, 'data-action': a.action, 'data-target': a.target, 'data-outcome': a.outcome },
        el('td', { text: dateTime(a.at) }),
        el('td', { text: a.operator }),
        el('td', { text: a.role }),
        el('td', {}, el('code', { text: a.action })),
        el('td', { title: a.target }, el('code', { text: short(a.target) })),
        el('td', { title: a.detail ?? '' }, el('span', { class: `pill o-${a.outcome}`, text: a.outcome })),
      ),
    ),
    'No action yet.',
  );
}

function renderHealth(health) {
  $('health').replaceChildren(...health.map((h) => el('li', { class: `h-${h.status}`, title: `${h.service}: ${h.status}${h.http_status ? ` (${h.http_status})` : ''}` }, h.service)));
}

function render(snapshot) {
  renderHealth(snapshot.health);
  renderStages(snapshot);
  renderFraud(snapshot.flow.fraud);
  renderReviews(snapshot.reviews);
  renderRecent(snapshot.flow.recent);
  renderSettlement(snapshot.flow, snapshot.ledger);
  renderDeadLetters(snapshot);
  renderKeys(snapshot.keys);
  renderAlerts(snapshot.flow.alerts);
  renderAudit(snapshot.audit);
  $('updated').textContent = `updated ${time(snapshot.at)}`;
}

// ---- start -----------------------------------------------------------------------------------------------------

$('sign-in-form').addEventListener('submit', signIn);
$('sign-out').addEventListener('click', signOut);
api('GET', '/api/session').then((res) => {
  if (res.status === 200) {
    session = res.body;
    showConsole();
  } else {
    showSignIn();
  }
});
