/* global document, setInterval -- browser globals; the lint config is set up for Node */
import { $, el } from './dom.js';

/** The sparkline shows the last minute, one point per second. */
const SPARK_SECONDS = 60;
const SPARK_WIDTH = 72;
const SPARK_HEIGHT = 20;
/** Members listed under a channel; the count says how many there are in all. */
const MAX_MEMBERS_SHOWN = 50;

/**
 * The channels this page subscribes to: name, presence (members, live),
 * events per second over the last minute, and remove. `entry.presence`
 * says whether the subscription joins the channel's presence.
 */
export class ChannelsView {
  /** `handlers.remove(name)` unsubscribes; `handlers.inspect(name)` opens it in the operator view. */
  constructor(handlers) {
    this.handlers = handlers;
    this.entries = new Map();
    setInterval(() => this.redraw(), 1000);
  }

  has(name) {
    return this.entries.has(name);
  }

  add(name, presence) {
    const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('viewBox', `0 0 ${SPARK_WIDTH} ${SPARK_HEIGHT}`);
    svg.setAttribute('aria-label', `${name} events per second, last minute`);
    svg.append(line);
    const rate = el('span', { class: 'rate', text: '0/s' });
    const members = el('ul', { class: 'members', hidden: !presence });
    const head = el(
      'div',
      { class: 'head' },
      el('button', { type: 'button', class: 'name link', text: name, title: `inspect ${name} in the operator view`, onclick: () => this.handlers.inspect(name) }),
      svg,
      rate,
      el('button', { type: 'button', class: 'remove', title: `unsubscribe from ${name}`, text: '×', onclick: () => this.handlers.remove(name) }),
    );
    const item = el('li', { class: 'pending', dataset: { channel: name } }, head, members);
    $('channels').append(item);
    const entry = { name, presence, item, line, rateLabel: rate, members, rate: new Rate(), lastId: undefined };
    this.entries.set(name, entry);
    return entry;
  }

  remove(name) {
    this.entries.get(name)?.item.remove();
    this.entries.delete(name);
  }

  setPending(name, pending) {
    this.entries.get(name)?.item.classList.toggle('pending', pending);
  }

  setRecovered(name, recovered) {
    this.entries.get(name)?.item.classList.toggle('unrecovered', !recovered);
  }

  event(event) {
    const entry = this.entries.get(event.channel);
    if (!entry) return;
    entry.lastId = event.id;
    entry.rate.add();
  }

  /** The member list after a sync, join or leave (PresenceSnapshot from the SDK). */
  showPresence(name, snapshot) {
    const entry = this.entries.get(name);
    if (!entry) return;
    const shown = snapshot.members.slice(0, MAX_MEMBERS_SHOWN).map((m) => el('li', { dataset: { user: m.user }, title: JSON.stringify(m.info ?? {}), text: m.user }));
    const more = snapshot.count - shown.length;
    const rest = more > 0 ? [el('li', { class: 'more', text: `+${more}` })] : [];
    entry.members.replaceChildren(el('li', { class: 'count', text: `presence: ${snapshot.count}` }), ...shown, ...rest);
  }

  redraw() {
    for (const entry of this.entries.values()) {
      const series = entry.rate.series();
      const max = Math.max(1, ...series);
      const step = SPARK_WIDTH / (SPARK_SECONDS - 1);
      entry.line.setAttribute('points', series.map((v, i) => `${(i * step).toFixed(1)},${(SPARK_HEIGHT - 1 - (v / max) * (SPARK_HEIGHT - 2)).toFixed(1)}`).join(' '));
      const recent = series.slice(-10).reduce((a, b) => a + b, 0) / 10;
      entry.rateLabel.textContent = `${recent < 10 ? recent.toFixed(1) : Math.round(recent)}/s`;
    }
  }
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
