/**
 * The operator dashboard (browser side). Every 2 s it reads, from the host that served it:
 *   GET /cluster      hosts, leader, etcd members (issue 3) and etcd storage (db sizes, quota,
 *                     alarms: the quota guard's report); "not available" while it answers 404,
 *                     then members come from /dashboard/etcd-members instead;
 *   GET /events       the recent cluster events (issue 4); "not available" while it answers 404;
 *   GET /metrics      of every live host (CORS-enabled), for the throughput and latency charts.
 * Plain ES module, no build step: preact + htm + uPlot arrive through the page's import map.
 *
 * These endpoints need an admin API key. The page takes it from its URL fragment
 * (`/dashboard#key=pay_…`, which browsers never send to a server, so it stays out of logs) or from
 * a form, and keeps it in sessionStorage for the tab's lifetime only.
 */
import htm from 'htm';
import { h, render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';

const html = htm.bind(h);
const REFRESH_MS = 2000;
const HISTORY_POINTS = 150; // 5 minutes at one point per 2 s
const NOT_AVAILABLE = Symbol('not available');
const KEY_STORAGE = 'payments-dashboard-api-key';

class NeedsKey extends Error {}

/** The API key from `#key=…` (then removed from the address bar) or from this tab's storage. */
function initialKey() {
  const fromFragment = /(?:^#|&)key=([^&]+)/.exec(location.hash)?.[1];
  if (fromFragment) {
    sessionStorage.setItem(KEY_STORAGE, decodeURIComponent(fromFragment));
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem(KEY_STORAGE) ?? '';
}
let apiKey = initialKey();
const authorized = (init = {}) => ({
  ...init,
  headers: { ...init.headers, authorization: `Bearer ${apiKey}` },
});

/** GET JSON; NOT_AVAILABLE when the endpoint does not exist on this host (404). */
async function getJson(url) {
  const response = await fetch(url, authorized({ signal: AbortSignal.timeout(3000) }));
  if (response.status === 401 || response.status === 403)
    throw new NeedsKey(`${url}: HTTP ${response.status}`);
  if (response.status === 404) return NOT_AVAILABLE;
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

/** Sums the payment routes' request counters and latency buckets out of Prometheus text. */
function parseMetrics(text) {
  const out = { requests: 0, buckets: new Map(), count: 0, sum: 0 };
  for (const line of text.split('\n')) {
    if (!line.includes('route="/payments')) continue;
    const match = /^(\w+)\{([^}]*)\} ([\d.e+-]+|NaN|\+Inf)$/.exec(line);
    if (!match) continue;
    const [, name, labels, value] = match;
    const v = Number(value);
    if (name === 'http_requests_total') out.requests += v;
    else if (name === 'http_request_duration_seconds_bucket') {
      const le = /le="([^"]+)"/.exec(labels)?.[1];
      if (le) out.buckets.set(le, (out.buckets.get(le) ?? 0) + v);
    } else if (name === 'http_request_duration_seconds_count') out.count += v;
    else if (name === 'http_request_duration_seconds_sum') out.sum += v;
  }
  return out;
}

function addScrapes(scrapes) {
  const total = { requests: 0, buckets: new Map(), count: 0, sum: 0 };
  for (const s of scrapes) {
    total.requests += s.requests;
    total.count += s.count;
    total.sum += s.sum;
    for (const [le, v] of s.buckets) total.buckets.set(le, (total.buckets.get(le) ?? 0) + v);
  }
  return total;
}

/** Quantile (seconds) from cumulative histogram bucket deltas, interpolating inside the bucket. */
function quantile(q, previous, current) {
  const bounds = [...current.buckets.keys()]
    .map((le) => ({ le, upper: le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le) }))
    .sort((a, b) => a.upper - b.upper);
  const counts = bounds.map((b) => (current.buckets.get(b.le) ?? 0) - (previous.buckets.get(b.le) ?? 0));
  const total = counts.at(-1) ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (let i = 0; i < bounds.length; i++) {
    if (counts[i] >= rank) {
      const upper = Number.isFinite(bounds[i].upper) ? bounds[i].upper : lower;
      const inBucket = counts[i] - below;
      return inBucket > 0 ? lower + ((upper - lower) * (rank - below)) / inBucket : upper;
    }
    lower = bounds[i].upper;
    below = counts[i];
  }
  return lower;
}

const fmtTime = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '—');
const fmtMs = (v) => (v === null || v === undefined || Number.isNaN(v) ? '—' : `${v.toFixed(1)} ms`);
const na = html`<span class="na">not available</span>`;

function Badge({ ok, yes = 'healthy', no = 'DOWN' }) {
  return html`<span class=${ok ? 'badge ok' : 'badge bad'}>${ok ? yes : no}</span>`;
}

const fmtMiB = (bytes) =>
  bytes === null || bytes === undefined ? '—' : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
const alarmText = (alarms) => alarms.map((a) => `${a.alarm} on ${a.member}`).join(', ');

function Summary({ members, cluster, error, updated }) {
  const list = members ?? [];
  const healthy = list.filter((m) => m.healthy).length;
  const quorum = healthy > list.length / 2;
  const leader = cluster && cluster !== NOT_AVAILABLE ? cluster.leader : undefined;
  const storage = cluster && cluster !== NOT_AVAILABLE ? cluster.etcd?.storage : undefined;
  const incidents = (storage?.alarms ?? []).filter((a) => !a.explained);
  const level =
    error || !quorum || storage?.full || incidents.length ? 'bad' : healthy < list.length ? 'warn' : 'ok';
  const text = error
    ? `Cannot read cluster state: ${error}`
    : !quorum
      ? `etcd has NO QUORUM: ${healthy} of ${list.length} members healthy — payments are refused (503)`
      : incidents.length
        ? `etcd ALARM that database size does not explain: ${alarmText(incidents)} — treat it as an incident${storage.full ? '; payments are refused (503 storage_full)' : ''}`
        : storage?.full
          ? `Payments PAUSED (503 storage_full): ${storage.reason} — reclaim space: payctl maintain`
          : healthy < list.length
            ? `Degraded: ${healthy} of ${list.length} etcd members healthy — still serving, one more loss stops payments`
            : `All ${list.length} etcd members healthy`;
  return html`<header class=${`summary ${level}`}>
    <h1>Payments cluster</h1>
    <p class="headline" data-testid="summary">${text}</p>
    <p class="meta">
      Host leader: <strong data-testid="host-leader">${leader ? leader.id : cluster === NOT_AVAILABLE ? 'not available' : 'none'}</strong>
      ${' · '}updated ${updated ? updated.toLocaleTimeString() : '—'} (every ${REFRESH_MS / 1000} s)
    </p>
  </header>`;
}

function Members({ members, source, storage }) {
  if (!members) return html`<p>loading…</p>`;
  if (members.length === 0) return html`<p>${na} (this host was started without etcd endpoints)</p>`;
  const overMark = (m) => storage && m.dbSizeBytes !== null && m.dbSizeBytes >= storage.highWaterBytes;
  return html`<table data-testid="members">
    <thead><tr><th>member</th><th>state</th><th>role</th><th>raft term</th><th>raft index</th><th>db size</th><th>in use</th><th>client URL</th></tr></thead>
    <tbody>${members.map(
      (m) => html`<tr data-member=${m.name} class=${m.healthy && !overMark(m) ? '' : 'row-bad'}>
        <td>${m.name}</td><td><${Badge} ok=${m.healthy} /></td>
        <td>${m.isLeader ? html`<strong>raft leader</strong>` : m.healthy ? 'follower' : '—'}</td>
        <td>${m.raftTerm ?? '—'}</td><td>${m.raftIndex ?? '—'}</td>
        <td>${fmtMiB(m.dbSizeBytes)}</td><td>${fmtMiB(m.dbSizeInUseBytes)}</td><td><code>${m.clientUrl}</code></td>
      </tr>`,
    )}</tbody>
  </table>
  ${
    storage
      ? html`<p class=${storage.full ? 'note row-bad' : 'note'} data-testid="storage">
          quota ${fmtMiB(storage.quotaBytes)}, payments refused from ${fmtMiB(storage.highWaterBytes)} (high-water mark)
          ${' · '}alarms: ${storage.alarms.length ? alarmText(storage.alarms) : 'none'}
          ${storage.alarms.some((a) => !a.explained) ? html` <strong>(not explained by size: an incident)</strong>` : ''}
        </p>`
      : ''
  }
  <p class="note">source: ${source}</p>`;
}

function Hosts({ cluster }) {
  if (cluster === undefined) return html`<p>loading…</p>`;
  if (cluster === NOT_AVAILABLE)
    return html`<p>${na}: this host has no GET /cluster (membership not deployed)</p>`;
  const leaderId = cluster.leader?.id;
  return html`<table data-testid="hosts">
    <thead><tr><th>host</th><th>state</th><th>role</th><th>clock offset</th><th>error bound</th><th>since</th><th>URL</th></tr></thead>
    <tbody>${(cluster.hosts ?? []).map(
      (host) => html`<tr data-host=${host.id} class=${host.alive === false ? 'row-bad' : ''}>
        <td>${host.id}</td><td><${Badge} ok=${host.alive !== false} yes="alive" no="GONE" /></td>
        <td>${host.id === leaderId ? html`<strong>leader</strong>` : ''}</td>
        <td>${host.clockOffsetMs === undefined ? na : fmtMs(host.clockOffsetMs)}</td>
        <td>${host.clockErrorBoundMs === undefined ? na : fmtMs(host.clockErrorBoundMs)}</td>
        <td>${fmtTime(host.since)}</td><td><code>${host.url}</code></td>
      </tr>`,
    )}</tbody>
  </table>
  ${cluster.leader ? html`<p class="note">leader ${cluster.leader.id} since ${fmtTime(cluster.leader.since)}, fencing token ${cluster.leader.fencingToken}</p>` : html`<p class="note row-bad">no host leader</p>`}`;
}

function Chart({ title, series, data, unit }) {
  const box = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    if (!box.current) return undefined;
    plot.current = new uPlot(
      {
        width: Math.max(280, box.current.clientWidth - 8),
        height: 180,
        series: [
          {},
          ...series.map((label, i) => ({ label, stroke: ['#2563eb', '#dc2626', '#16a34a'][i], width: 2 })),
        ],
        axes: [{}, { label: unit, size: 60 }],
        scales: { x: { time: true } },
      },
      data,
      box.current,
    );
    return () => plot.current?.destroy();
  }, []);
  useEffect(() => plot.current?.setData(data), [data]);
  return html`<figure><figcaption>${title}</figcaption><div ref=${box}></div></figure>`;
}

function Events({ events }) {
  if (events === undefined) return html`<p>loading…</p>`;
  if (events === NOT_AVAILABLE)
    return html`<p>${na}: this host has no GET /events (event log not deployed)</p>`;
  const list = (Array.isArray(events) ? events : (events.events ?? [])).slice(-30).reverse();
  if (list.length === 0) return html`<p>no events yet</p>`;
  return html`<ol class="events" data-testid="events">${list.map((e) => {
    const { at, time, timestamp, type, kind, host, ...rest } = e;
    return html`<li><time>${fmtTime(at ?? time ?? timestamp)}</time> <strong>${type ?? kind ?? 'event'}</strong>
      ${host ? html` <span class="host">${host}</span>` : ''} <code>${JSON.stringify(rest)}</code></li>`;
  })}</ol>`;
}

/** Payment search: a payment is its payer and id; the payer may be left out while the id is unique. */
function Search() {
  const [id, setId] = useState('');
  const [payer, setPayer] = useState('');
  const [result, setResult] = useState(null);
  const submit = async (event) => {
    event.preventDefault();
    const wanted = id.trim();
    if (!wanted) return;
    const query = payer.trim() ? `?payer=${encodeURIComponent(payer.trim())}` : '';
    try {
      const response = await fetch(`/payments/${encodeURIComponent(wanted)}${query}`, authorized());
      const body = await response.json();
      setResult({ ok: response.ok, body });
    } catch (error) {
      setResult({ ok: false, body: { error: { message: String(error) } } });
    }
  };
  // An id several payers used comes back as 409 ambiguous_payment_id with the payers as details.
  const failure = (error) =>
    error?.code === 'ambiguous_payment_id'
      ? `${error.message}: ${(error.details ?? []).map((d) => d.message).join(', ')}`
      : (error?.message ?? 'not found');
  return html`<form onSubmit=${submit} class="search">
    <label for="payment-id">Payment id</label>
    <input id="payment-id" name="payment-id" value=${id} onInput=${(e) => setId(e.target.value)} placeholder="e.g. order-4711" />
    <label for="payment-payer">Payer</label>
    <input id="payment-payer" name="payment-payer" value=${payer} onInput=${(e) => setPayer(e.target.value)} placeholder="optional" />
    <button type="submit">Find</button>
  </form>
  ${
    result &&
    html`<pre data-testid="payment-result" class=${result.ok ? 'found' : 'row-bad'}>${
      result.ok ? JSON.stringify(result.body, null, 2) : failure(result.body?.error)
    }</pre>`
  }`;
}

/** Asks for an admin API key when the hosts refuse the one the page has (or it has none). */
function KeyForm() {
  const [value, setValue] = useState('');
  const submit = (event) => {
    event.preventDefault();
    apiKey = value.trim();
    sessionStorage.setItem(KEY_STORAGE, apiKey);
    setValue('');
  };
  return html`<form onSubmit=${submit} class="search" data-testid="key-form">
    <label for="api-key">Admin API key (<code>.data/dev-admin-key</code> on a local cluster)</label>
    <input id="api-key" type="password" autocomplete="off" value=${value} onInput=${(e) => setValue(e.target.value)} />
    <button type="submit">Use key</button>
  </form>`;
}

function App() {
  const [state, setState] = useState({ series: [[], [], [], []] });
  const previous = useRef(null);
  useEffect(() => {
    let stopped = false;
    const tick = async () => {
      const next = { updated: new Date() };
      try {
        next.cluster = await getJson('/cluster');
        if (next.cluster === NOT_AVAILABLE || !next.cluster.etcd?.members) {
          next.members = (await getJson('/dashboard/etcd-members')).members;
          next.memberSource = 'probed by this host (GET /cluster not available)';
        } else {
          next.members = next.cluster.etcd.members;
          next.memberSource = 'GET /cluster';
        }
        // The log reads oldest first from `from`: start a minute back, so the page shows recent
        // events rather than the log's first 30 (this browser's clock; a skewed one shifts the window).
        const since = encodeURIComponent(new Date(Date.now() - 60_000).toISOString());
        next.events = await getJson(`/events?limit=30&from=${since}`).catch(() => NOT_AVAILABLE);
        const hostUrls =
          next.cluster !== NOT_AVAILABLE && next.cluster.hosts?.length
            ? next.cluster.hosts.filter((x) => x.alive !== false).map((x) => x.url)
            : [location.origin];
        const scrapes = await Promise.all(
          hostUrls.map((url) =>
            fetch(`${url}/metrics`, authorized({ signal: AbortSignal.timeout(2000) }))
              .then((r) => r.text())
              .then(parseMetrics)
              .catch(() => null),
          ),
        );
        next.scrape = { at: Date.now() / 1000, total: addScrapes(scrapes.filter(Boolean)) };
        next.scope =
          next.cluster === NOT_AVAILABLE
            ? 'this host only: GET /cluster not available'
            : `${scrapes.filter(Boolean).length} of ${hostUrls.length} live hosts`;
        next.needsKey = false;
      } catch (error) {
        next.error = String(error.message ?? error);
        if (error instanceof NeedsKey) next.needsKey = true;
      }
      if (stopped) return;
      setState((old) => {
        const series = old.series.map((s) => s.slice(-HISTORY_POINTS + 1));
        const prev = previous.current;
        if (next.scrape && prev) {
          const dt = next.scrape.at - prev.at;
          const rate = Math.max(0, next.scrape.total.requests - prev.total.requests) / dt;
          const p50 = quantile(0.5, prev.total, next.scrape.total);
          const p99 = quantile(0.99, prev.total, next.scrape.total);
          series[0].push(next.scrape.at);
          series[1].push(rate);
          series[2].push(p50 === null ? null : p50 * 1000);
          series[3].push(p99 === null ? null : p99 * 1000);
        }
        if (next.scrape) previous.current = next.scrape;
        return { ...old, ...next, series };
      });
    };
    tick();
    const timer = setInterval(tick, REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);
  const [t, rate, p50, p99] = state.series;
  return html`
    <${Summary} members=${state.members} cluster=${state.cluster} error=${state.error} updated=${state.updated} />
    ${state.needsKey && html`<${KeyForm} />`}
    <main>
      <section><h2>etcd members</h2><${Members} members=${state.members} source=${state.memberSource} storage=${state.cluster?.etcd?.storage} /></section>
      <section><h2>Function hosts</h2><${Hosts} cluster=${state.cluster} /></section>
      <section class="charts">
        <${Chart} title=${`Payment API throughput, requests/s (${state.scope ?? '…'})`} series=${['req/s']} unit="req/s" data=${[t, rate]} />
        <${Chart} title=${`Payment API latency, ms (${state.scope ?? '…'})`} series=${['p50', 'p99']} unit="ms" data=${[t, p50, p99]} />
      </section>
      <section><h2>Find a payment</h2><${Search} /></section>
      <section><h2>Cluster events, last minute (first 30)</h2><${Events} events=${state.events} /></section>
    </main>`;
}

const root = document.getElementById('app');
root.textContent = ''; // drop the loading note
render(html`<${App} />`, root);
