/* global document, localStorage, location, fetch, URL, setInterval -- browser globals; the lint config is set up for Node */
// The live console: plain browser JavaScript on top of the SDK the relay serves.
// Event data is shown with textContent only, never parsed as HTML.
import { connect } from '../sdk/eventrelay.js';

/** Older events are dropped from the page so that a busy channel cannot exhaust the tab's memory. */
const MAX_EVENTS_SHOWN = 300;
/** The sparkline shows the last minute, one point per second. */
const SPARK_SECONDS = 60;
const SPARK_WIDTH = 120;
const SPARK_HEIGHT = 24;

const $ = (id) => document.getElementById(id);
const stored = (key, fallback) => localStorage.getItem(`eventrelay.${key}`) ?? fallback;
const store = (key, value) => localStorage.setItem(`eventrelay.${key}`, value);

let client = null;
/** channel -> { unsubscribe, item, rate, lastId } */
const channels = new Map();
let shown = 0;

$('client-url').value = stored('clientUrl', location.origin);
$('source-url').value = stored('sourceUrl', `${location.protocol}//${location.hostname}:8080`);
$('publish-channel').value = stored('publishChannel', 'demo');

$('connect-form').addEventListener('submit', (e) => {
  e.preventDefault();
  openClient();
});
$('subscribe-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const name = $('channel').value.trim();
  if (!name || channels.has(name)) return;
  if (!client) openClient();
  addChannel(name);
  $('channel').value = '';
});
$('publish-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void publish();
});
$('clear').addEventListener('click', () => {
  $('events').replaceChildren();
  shown = 0;
  $('event-count').textContent = '0';
  $('empty').hidden = false;
});

/** (Re)connects with the form's address and token; existing channels resume where they were. */
function openClient() {
  const positions = client ? client.positions : {};
  client?.close();
  const url = $('client-url').value.trim() || location.origin;
  store('clientUrl', url);
  const token = $('token').value.trim() || undefined;
  client = connect(url, { token });
  const current = client;
  setState('connecting');
  client.on('state', (change) => {
    if (client !== current) return;
    setState(change.state, change);
    if (change.error) notice(`${change.error.code}: ${change.error.message}`);
  });
  client.on('error', (error) => {
    if (client === current && !error.channel) notice(`${error.code}: ${error.message}`);
  });
  for (const [name, entry] of channels) {
    entry.item.classList.add('pending');
    entry.unsubscribe = subscribeTo(name, positions[name] ?? entry.lastId);
  }
  $('connect').textContent = 'Reconnect';
}

function setState(state, change = {}) {
  const pill = $('state');
  pill.dataset.state = state;
  const labels = { connecting: 'connecting…', open: 'connected', reconnecting: 'reconnecting…', closed: 'disconnected' };
  let text = labels[state] ?? state;
  if (state === 'reconnecting' && change.delayMs !== undefined) text += ` (retry in ${Math.ceil(change.delayMs / 100) / 10}s)`;
  pill.textContent = text;
  if (state === 'open') notice('');
}

function addChannel(name) {
  const item = document.createElement('li');
  item.className = 'pending';
  item.dataset.channel = name;
  const label = document.createElement('span');
  label.className = 'name';
  label.textContent = name;
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${SPARK_WIDTH} ${SPARK_HEIGHT}`);
  svg.setAttribute('aria-label', `${name} events per second, last minute`);
  const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  svg.append(line);
  const rate = document.createElement('span');
  rate.className = 'rate';
  rate.textContent = '0/s';
  const remove = document.createElement('button');
  remove.type = 'button';
  remove.title = `unsubscribe from ${name}`;
  remove.textContent = '×';
  remove.addEventListener('click', () => {
    channels.get(name)?.unsubscribe?.();
    channels.delete(name);
    item.remove();
    saveChannels();
  });
  item.append(label, svg, rate, remove);
  $('channels').append(item);
  const entry = { item, line, rateLabel: rate, rate: new Rate(), lastId: undefined, unsubscribe: null };
  channels.set(name, entry);
  entry.unsubscribe = subscribeTo(name, undefined);
  saveChannels();
}

function subscribeTo(name, since) {
  return client.subscribe(name, (event) => showEvent(event), {
    since,
    onSubscribed: (info) => {
      const entry = channels.get(name);
      if (!entry) return;
      entry.item.classList.remove('pending');
      entry.item.classList.toggle('unrecovered', !info.recovered);
      if (!info.recovered) notice(`${name}: resumed after ${info.since}, but some events are no longer held (recovered:false); the list may have gaps.`);
    },
    onError: (error) => {
      notice(`${name}: ${error.code}: ${error.message}`);
      channels.get(name)?.item.remove();
      channels.delete(name);
      saveChannels();
    },
  });
}

function showEvent(event) {
  const entry = channels.get(event.channel);
  if (entry) {
    entry.lastId = event.id;
    entry.rate.add();
  }
  const item = document.createElement('li');
  item.dataset.channel = event.channel;
  item.dataset.id = event.id;
  const meta = document.createElement('div');
  meta.className = 'meta';
  const parts = [
    ['channel', event.channel],
    ['id', event.id],
    ['time', new Date(event.ts).toLocaleTimeString(undefined, { hour12: false }) + `.${String(event.ts % 1000).padStart(3, '0')}`],
  ];
  for (const [cls, text] of parts) {
    const span = document.createElement('span');
    span.className = cls;
    span.textContent = text;
    meta.append(span);
  }
  const pre = document.createElement('pre');
  pre.textContent = JSON.stringify(event.data, null, 2);
  item.append(meta, pre);
  const list = $('events');
  list.prepend(item);
  while (list.childElementCount > MAX_EVENTS_SHOWN) list.lastElementChild.remove();
  $('event-count').textContent = String(++shown);
  $('empty').hidden = true;
}

async function publish() {
  const result = $('publish-result');
  const base = $('source-url').value.trim();
  const channel = $('publish-channel').value.trim();
  const text = $('publish-data').value;
  store('sourceUrl', base);
  store('publishChannel', channel);
  try {
    JSON.parse(text);
  } catch {
    return report(result, false, 'invalid_json: the data is not valid JSON');
  }
  const headers = { 'content-type': 'application/json' };
  const key = $('publisher-key').value.trim();
  if (key) headers.authorization = `Bearer ${key}`;
  let response;
  try {
    response = await fetch(new URL(`/v1/channels/${encodeURIComponent(channel)}/events`, base), { method: 'POST', headers, body: text });
  } catch {
    return report(result, false, `cannot reach ${base}: is it running, and does PUBLISH_ALLOWED_ORIGINS include ${location.origin}?`);
  }
  const body = await response.json().catch(() => ({}));
  if (response.ok) return report(result, true, `published ${body.channel} ${body.id}`);
  report(result, false, `${response.status} ${body.error?.code ?? ''}: ${body.error?.message ?? response.statusText}`);
}

function report(element, ok, text) {
  element.className = `result ${ok ? 'ok' : 'bad'}`;
  element.textContent = text;
}

function notice(text) {
  $('notice').textContent = text;
  $('notice').hidden = !text;
}

function saveChannels() {
  store('channels', [...channels.keys()].join(','));
}

/** Events per second over the last minute, in a ring of one-second buckets. */
class Rate {
  constructor() {
    this.buckets = new Array(SPARK_SECONDS).fill(0);
    this.second = Math.floor(Date.now() / 1000);
  }
  advance() {
    const now = Math.floor(Date.now() / 1000);
    for (let s = this.second + 1; s <= Math.min(now, this.second + SPARK_SECONDS); s++) this.buckets[s % SPARK_SECONDS] = 0;
    this.second = now;
  }
  add() {
    this.advance();
    this.buckets[this.second % SPARK_SECONDS]++;
  }
  /** Oldest first. */
  series() {
    this.advance();
    return Array.from({ length: SPARK_SECONDS }, (_, i) => this.buckets[(this.second + 1 + i) % SPARK_SECONDS]);
  }
}

setInterval(() => {
  for (const entry of channels.values()) {
    const series = entry.rate.series();
    const max = Math.max(1, ...series);
    const step = SPARK_WIDTH / (SPARK_SECONDS - 1);
    entry.line.setAttribute('points', series.map((v, i) => `${(i * step).toFixed(1)},${(SPARK_HEIGHT - 1 - (v / max) * (SPARK_HEIGHT - 2)).toFixed(1)}`).join(' '));
    const recent = series.slice(-10).reduce((a, b) => a + b, 0) / 10;
    entry.rateLabel.textContent = `${recent < 10 ? recent.toFixed(1) : Math.round(recent)}/s`;
  }
}, 1000);

// Channels from the last visit come back, subscribed, once the user connects or subscribes.
for (const name of stored('channels', '').split(',').filter(Boolean)) {
  if (!client) openClient();
  addChannel(name);
}
