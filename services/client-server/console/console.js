/* global document, location, fetch, URL -- browser globals; the lint config is set up for Node */
// The live console: plain browser JavaScript on top of the SDK the relay
// serves (/sdk/eventrelay.js). It subscribes, publishes (over its WebSocket
// as a client, or to the source-server with the publisher key) and, with
// that key, shows the server API's operator view.
import { CHANNEL_PATTERN, connect } from '../sdk/eventrelay.js';
import { ChannelsView } from './channels-view.js';
import { $, describeError, perTab, remembered, report } from './dom.js';
import { EventsView } from './events-view.js';
import { OperatorView } from './operator-view.js';
import { ServerApi } from './server-api.js';

/** What /console/config.json says when it cannot be read (an older server): PROTOCOL.md's default port. */
const FALLBACK_CONFIG = { sourceUrl: null, sourcePort: 8080, authDisabled: false };

const pageConfig = await loadPageConfig();
/** The client-server that served this page, path prefix included. */
const pageBase = new URL('.', location.href).href.replace(/\/$/, '');
/**
 * CONSOLE_SOURCE_URL; else, on a default port (80/443: behind an ingress that
 * routes /v1/channels to the source-server too, as k8s/ does), this page's
 * own address; else this page's host at SOURCE_PORT (both services on one
 * host, as `npm start` runs them).
 */
const configuredSourceUrl = pageConfig.sourceUrl ?? (location.port === '' ? pageBase : `${location.protocol}//${location.hostname}:${pageConfig.sourcePort}`);

const api = new ServerApi({ base: () => $('source-url').value, key: () => $('publisher-key').value.trim() });
const eventsView = new EventsView();
const channelsView = new ChannelsView({ remove: removeChannel, inspect: (name) => showTab('operator', name) });
const operator = new OperatorView(api, { hasKey: () => $('publisher-key').value.trim() !== '', checkChannel: (name) => (CHANNEL_PATTERN.test(name) ? '' : invalidChannel(name)) });

/** The page's one WebSocket connection (the SDK reconnects it); replaced by Connect, stopped by Disconnect. */
let client = null;

// --- settings, remembered -------------------------------------------------

$('client-url').value = remembered.get('clientUrl', pageBase);
$('token').value = perTab.get('token', '');
$('token').placeholder = pageConfig.authDisabled ? 'not needed: auth is disabled here' : 'a JWT, e.g. from: npx eventrelay token --channels "demo"';
$('source-url').value = remembered.get('sourceUrl', configuredSourceUrl);
$('publisher-key').value = perTab.get('publisherKey', '');
$('publish-channel').value = remembered.get('publishChannel', 'demo');
$(`publish-as-${remembered.get('publishAs', 'server') === 'client' ? 'client' : 'server'}`).checked = true;
showConfiguredSource();

$('source-url').addEventListener('change', () => {
  const value = $('source-url').value.trim();
  // Remembered only when it differs from the configuration, so that a changed CONSOLE_SOURCE_URL reaches every browser.
  remembered.set('sourceUrl', value === configuredSourceUrl ? '' : value);
  showConfiguredSource();
});
$('source-reset').addEventListener('click', () => {
  $('source-url').value = configuredSourceUrl;
  remembered.set('sourceUrl', '');
  showConfiguredSource();
});
$('publisher-key').addEventListener('input', () => {
  perTab.set('publisherKey', $('publisher-key').value.trim());
  operator.updateHint();
});

function showConfiguredSource() {
  $('source-configured').hidden = $('source-url').value.trim() === configuredSourceUrl;
  $('source-configured-url').textContent = configuredSourceUrl;
}

// --- connection -------------------------------------------------------------

$('connect-form').addEventListener('submit', (e) => {
  e.preventDefault();
  openClient();
});
$('disconnect').addEventListener('click', () => client?.close());

/** (Re)connects with the form's address and token; the channels resume where they were. */
function openClient() {
  const positions = client ? client.positions : {};
  client?.close();
  const url = $('client-url').value.trim() || pageBase;
  remembered.set('clientUrl', url === pageBase ? '' : url);
  const token = $('token').value.trim() || undefined;
  perTab.set('token', token);
  const current = connect(url, { token });
  client = current;
  notice('');
  setState({ state: 'connecting' });
  current.on('state', (change) => client === current && setState(change));
  // Transient refusals of a subscribe (unavailable, rate_limited): the SDK retries; say why meanwhile.
  current.on('error', (error) => {
    if (client === current && error.channel && channelsView.has(error.channel) && error.closeCode === undefined) notice(`${error.channel}: ${describeError(error)}`);
  });
  for (const entry of channelsView.entries.values()) {
    channelsView.setPending(entry.name, true);
    subscribeTo(entry, positions[entry.name] ?? entry.lastId);
  }
  $('connect').textContent = 'Reconnect';
}

const LABELS = { connecting: 'connecting…', open: 'connected', reconnecting: 'reconnecting…', closed: 'disconnected' };

function setState(change) {
  const pill = $('state');
  pill.dataset.state = change.state;
  pill.dataset.closeCode = change.closeCode ?? '';
  let text = LABELS[change.state] ?? change.state;
  if (change.state === 'reconnecting' && change.delayMs !== undefined) text += ` (retry in ${Math.ceil(change.delayMs / 100) / 10}s)`;
  if (change.state === 'open') notice('');
  if (change.state === 'closed') {
    for (const entry of channelsView.entries.values()) channelsView.setPending(entry.name, true);
    const error = change.error;
    if (error?.code === 'unauthorized') {
      text = 'token rejected (4001)';
      notice(`unauthorized: ${error.message} Enter a valid subscriber token and Connect.`);
    } else if (error?.code === 'disconnected') {
      text = 'disconnected by the operator (4003)';
      notice('disconnected (close 4003): an operator closed this connection, and the console does not reconnect with the same token. Connect to start again.');
    } else if (error) {
      text = `closed${change.closeCode ? ` (${change.closeCode})` : ''}`;
      notice(describeError(error));
    }
  }
  pill.textContent = text;
  $('disconnect').disabled = change.state === 'closed';
}

// --- channels ---------------------------------------------------------------

$('subscribe-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const name = $('channel').value.trim();
  if (addChannel(name, $('presence').checked)) $('channel').value = '';
});

function invalidChannel(name) {
  return `invalid_channel: "${name}" is not a channel name: 1-128 of A-Z a-z 0-9 _ - . : (PROTOCOL.md)`;
}

/** Subscribes to `name` (joining its presence with `presence`); false, with the reason shown, when it cannot. */
function addChannel(name, presence) {
  const error = $('channel-error');
  const problem = !CHANNEL_PATTERN.test(name) ? invalidChannel(name) : channelsView.has(name) ? `already_subscribed: this page is already subscribed to ${name}` : '';
  report(error, !problem, problem);
  if (problem) return false;
  const entry = channelsView.add(name, presence);
  if (!client || client.state === 'closed') openClient();
  else subscribeTo(entry, undefined);
  saveChannels();
  return true;
}

function subscribeTo(entry, since) {
  const { name } = entry;
  entry.unsubscribe = client.subscribe(
    name,
    (event) => {
      channelsView.event(event);
      eventsView.add(event);
    },
    {
      since,
      presence: entry.presence,
      onSubscribed: (info) => {
        channelsView.setPending(name, false);
        channelsView.setRecovered(name, info.recovered);
        if (!info.recovered) notice(`${name}: resumed after ${info.since}, but some events are no longer held (recovered:false); the list may have gaps.`);
      },
      onError: (error) => {
        // Refused for good (forbidden, invalid_channel): the SDK dropped it.
        report($('channel-error'), false, `${name}: ${describeError(error)}`);
        channelsView.remove(name);
        saveChannels();
      },
      onPresence: (change) => {
        channelsView.showPresence(name, change.presence);
        if (change.type !== 'sync') operator.presenceChanged(name);
      },
    },
  );
}

function removeChannel(name) {
  channelsView.entries.get(name)?.unsubscribe?.();
  channelsView.remove(name);
  saveChannels();
}

function saveChannels() {
  remembered.set('channels', JSON.stringify([...channelsView.entries.values()].map(({ name, presence }) => ({ name, presence }))));
}

function savedChannels() {
  const text = remembered.get('channels', '');
  try {
    const list = JSON.parse(text);
    if (Array.isArray(list)) return list.filter((c) => typeof c?.name === 'string');
  } catch {
    // The older form: names separated by commas.
  }
  return text.split(',').filter(Boolean).map((name) => ({ name, presence: false }));
}

// --- publish ----------------------------------------------------------------

$('publish-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void publish();
});

async function publish() {
  const result = $('publish-result');
  const channel = $('publish-channel').value.trim();
  const text = $('publish-data').value;
  const as = $('publish-as-client').checked ? 'client' : 'server';
  remembered.set('publishChannel', channel);
  remembered.set('publishAs', as);
  if (!CHANNEL_PATTERN.test(channel)) return report(result, false, invalidChannel(channel));
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    return report(result, false, 'invalid_json: the data is not valid JSON');
  }
  report(result, true, '…');
  if (as === 'client') {
    if (!client || client.state === 'closed') openClient();
    try {
      const { id } = await client.publish(channel, data);
      report(result, true, `published ${channel} ${id} as client`);
    } catch (err) {
      report(result, false, describeError(err));
    }
    return;
  }
  try {
    const { body, replayed } = await api.publish(channel, text);
    report(result, true, `published ${body.channel} ${body.id} as server${replayed ? ' (replayed)' : ''}`);
  } catch (err) {
    report(result, false, err.describe?.() ?? String(err));
  }
}

// --- tabs and notices ---------------------------------------------------------

for (const tab of document.querySelectorAll('.tabs [data-tab]')) tab.addEventListener('click', () => showTab(tab.dataset.tab));

/** Opens a tab; `channel` opens that channel in the operator view. */
function showTab(name, channel) {
  for (const tab of document.querySelectorAll('.tabs [data-tab]')) tab.setAttribute('aria-selected', String(tab.dataset.tab === name));
  $('panel-events').hidden = name !== 'events';
  $('panel-operator').hidden = name !== 'operator';
  operator.setVisible(name === 'operator');
  if (channel) operator.inspect(channel);
}

function notice(text) {
  $('notice').textContent = text;
  $('notice').hidden = !text;
}

async function loadPageConfig() {
  try {
    const response = await fetch('console/config.json');
    if (response.ok) return { ...FALLBACK_CONFIG, ...(await response.json()) };
  } catch {
    // Served by an older client-server, or offline: the defaults.
  }
  return FALLBACK_CONFIG;
}

// Channels from the last visit come back, subscribed.
const saved = savedChannels();
for (const { name, presence } of saved) if (CHANNEL_PATTERN.test(name) && !channelsView.has(name)) channelsView.add(name, presence === true);
if (saved.length) openClient();
document.body.dataset.ready = 'true';
