import { $, clock, el, oneLine } from './dom.js';

/** Older rows are dropped so that a busy channel cannot exhaust the tab's memory. */
export const MAX_EVENTS_SHOWN = 500;
/** While paused, at most this many events wait to be shown; older ones are dropped (and counted). */
export const MAX_EVENTS_HELD = 5000;

/**
 * The live event list: one compact row per event (time, channel, id,
 * publisher, data on one line; a click shows the data in full), newest first,
 * with a text filter and a pause that holds new events until resumed.
 */
export class EventsView {
  constructor() {
    this.list = $('events');
    this.received = 0;
    this.paused = false;
    this.held = [];
    this.dropped = 0;
    this.query = '';
    $('filter').addEventListener('input', (e) => this.filter(e.target.value));
    $('pause').addEventListener('click', () => this.setPaused(!this.paused));
    $('clear').addEventListener('click', () => this.clear());
  }

  add(event) {
    this.received++;
    $('event-count').textContent = String(this.received);
    if (this.paused) {
      this.held.push(event);
      if (this.held.length > MAX_EVENTS_HELD) {
        this.held.shift();
        this.dropped++;
      }
      this.updatePause();
      return;
    }
    this.show(event);
  }

  show(event) {
    const data = oneLine(event.data);
    const row = el(
      'li',
      { class: 'event', dataset: { channel: event.channel, id: event.id, search: `${event.channel} ${event.id} ${event.publisher ?? ''} ${data}`.toLowerCase() }, title: 'click to show the data in full' },
      el('span', { class: 'time', text: clock(event.ts) }),
      el('span', { class: 'channel', text: event.channel }),
      el('span', { class: 'id', text: event.id }),
      el('span', { class: 'publisher', text: event.publisher ? `by ${event.publisher}` : '' }),
      el('code', { class: 'data', text: data }),
    );
    row.addEventListener('click', () => {
      const open = row.classList.toggle('open');
      if (open && !row.querySelector('pre')) row.append(el('pre', { text: JSON.stringify(event.data, null, 2) }));
    });
    row.hidden = !this.matches(row);
    this.list.prepend(row);
    while (this.list.childElementCount > MAX_EVENTS_SHOWN) this.list.lastElementChild.remove();
    $('empty').hidden = true;
    this.updateFilterCount();
  }

  filter(text) {
    this.query = text.trim().toLowerCase();
    for (const row of this.list.children) row.hidden = !this.matches(row);
    this.updateFilterCount();
  }

  matches(row) {
    return !this.query || row.dataset.search.includes(this.query);
  }

  setPaused(paused) {
    this.paused = paused;
    if (!paused) {
      const held = this.held.splice(0);
      for (const event of held) this.show(event);
      this.dropped = 0;
    }
    this.updatePause();
  }

  updatePause() {
    const button = $('pause');
    button.setAttribute('aria-pressed', String(this.paused));
    button.classList.toggle('active', this.paused);
    const waiting = this.held.length + this.dropped;
    button.textContent = this.paused ? `Resume${waiting ? ` (${waiting} new${this.dropped ? `, ${this.dropped} dropped` : ''})` : ''}` : 'Pause';
  }

  updateFilterCount() {
    const hidden = this.query ? [...this.list.children].filter((row) => row.hidden).length : 0;
    $('filter-count').textContent = hidden ? `${hidden} hidden by the filter` : '';
  }

  clear() {
    this.list.replaceChildren();
    this.held = [];
    this.dropped = 0;
    this.received = 0;
    $('event-count').textContent = '0';
    $('empty').hidden = false;
    this.updatePause();
    this.updateFilterCount();
  }
}
