/* global setInterval */
import { $, clock, el, oneLine, report } from './dom.js';

/** While the operator view is open it re-reads the source-server this often: the server API's counts lag by up to STATS_INTERVAL_SECONDS (5) anyway. */
const AUTO_REFRESH_MS = 5000;
/** Channels listed per page of `GET /v1/channels`. */
const CHANNELS_PAGE = 100;
/**
 * "Oldest first" pages from before every id: eventrelay's ids are Redis
 * stream ids (`<ms>-<seq>`, PROTOCOL.md), and 0-0 precedes all of them.
 */
const BEFORE_EVERY_ID = '0-0';

/**
 * The operator view, from the source-server's server API (PROTOCOL.md
 * v1.1) with the publisher key: occupied channels and their subscriber
 * counts, one channel's presence members and history pages, and
 * disconnecting a user.
 */
export class OperatorView {
  /** `page.hasKey()` says whether a publisher key was entered; `page.checkChannel(name)` answers a coded problem or ''. */
  constructor(api, page) {
    this.api = api;
    this.page = page;
    this.visible = false;
    this.channel = undefined;
    this.history = { since: undefined, next: null };
    this.channelsNext = null;

    $('channels-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.refreshChannels();
    });
    $('channels-more').addEventListener('click', () => void this.refreshChannels(true));
    $('inspect-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const name = $('inspect-channel').value.trim();
      const problem = page.checkChannel(name);
      report($('inspect-error'), !problem, problem);
      if (!problem) this.inspect(name);
    });
    $('detail-refresh').addEventListener('click', () => void this.refreshDetail());
    $('history-latest').addEventListener('click', () => void this.loadHistory(undefined));
    $('history-oldest').addEventListener('click', () => void this.loadHistory(BEFORE_EVERY_ID));
    $('history-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.loadHistory($('history-since').value.trim() || undefined);
    });
    $('history-next').addEventListener('click', () => this.history.next && void this.loadHistory(this.history.next));
    $('disconnect-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.disconnect($('disconnect-user').value.trim());
    });
    setInterval(() => {
      if (!this.visible) return;
      void this.refreshChannels();
      if (this.channel) void this.refreshDetail({ history: false });
    }, AUTO_REFRESH_MS);
  }

  /** The tab was opened or closed. */
  setVisible(visible) {
    this.visible = visible;
    this.updateHint();
    if (visible) void this.refreshChannels();
  }

  updateHint() {
    $('operator-hint').textContent = this.page.hasKey()
      ? ''
      : 'Enter the publisher key (Server API, on the left) to read channels, presence and history, and to disconnect users. Without one only a source-server with auth disabled answers.';
  }

  async refreshChannels(more = false) {
    const result = $('channels-result');
    const prefix = $('channels-prefix').value.trim();
    try {
      const { body } = await this.api.channels({ prefix, after: more ? this.channelsNext : undefined, limit: CHANNELS_PAGE });
      this.channelsNext = body.next;
      $('channels-more').hidden = body.next === null;
      const rows = body.channels.map(({ channel, subscribers }) =>
        el(
          'tr',
          { dataset: { channel }, class: channel === this.channel ? 'selected' : undefined },
          el('td', {}, el('button', { type: 'button', class: 'link', text: channel, onclick: () => this.inspect(channel) })),
          el('td', { class: 'num subscribers', text: String(subscribers) }),
        ),
      );
      if (more) $('channels-table').append(...rows);
      else $('channels-table').replaceChildren(...rows);
      const count = $('channels-table').childElementCount;
      report(result, true, count ? `${count} occupied channel${count === 1 ? '' : 's'}${prefix ? ` starting with ${prefix}` : ''}` : 'no channel has a subscriber right now');
    } catch (err) {
      report(result, false, err.describe?.() ?? String(err));
    }
  }

  /** Shows one channel: its counts, presence and latest events. */
  inspect(channel) {
    this.channel = channel;
    this.history = { since: undefined, next: null };
    $('channel-detail').hidden = false;
    $('detail-name').textContent = channel;
    $('history-since').value = '';
    for (const row of $('channels-table').children) row.classList.toggle('selected', row.dataset.channel === channel);
    void this.refreshDetail();
  }

  async refreshDetail({ history = true } = {}) {
    const channel = this.channel;
    if (!channel) return;
    try {
      const { body } = await this.api.channel(channel);
      if (channel !== this.channel) return;
      const present = body.presence ? `${body.presence.count} present` : 'nobody present';
      $('detail-summary').textContent = `${body.subscribers} subscriber${body.subscribers === 1 ? '' : 's'} · ${present} · last id ${body.lastId ?? '—'}`;
    } catch (err) {
      $('detail-summary').textContent = err.describe?.() ?? String(err);
    }
    await this.refreshPresence();
    if (history) await this.loadHistory(this.history.since);
  }

  /** Called when this page sees a join or leave: the member list is read again. */
  presenceChanged(channel) {
    if (channel === this.channel) void this.refreshPresence();
  }

  async refreshPresence() {
    const channel = this.channel;
    const result = $('presence-result');
    try {
      const { body } = await this.api.presence(channel);
      if (channel !== this.channel) return;
      $('presence-count').textContent = String(body.count);
      $('presence-table').replaceChildren(
        ...body.members.map((m) =>
          el(
            'tr',
            { dataset: { user: m.user } },
            el('td', { class: 'user', text: m.user }),
            el('td', {}, el('code', { text: oneLine(m.info ?? {}) })),
            el('td', { class: 'num', text: String(m.connections) }),
            el('td', { class: 'actions' }, el('button', { type: 'button', class: 'danger small', text: 'Disconnect', title: `close every connection of ${m.user} with 4003`, onclick: () => void this.disconnect(m.user) })),
          ),
        ),
      );
      report(result, true, body.count ? (body.truncated ? `the first ${body.members.length} of ${body.count} members` : '') : 'nobody is present (presence needs a subscribe with presence)');
    } catch (err) {
      report(result, false, err.describe?.() ?? String(err));
    }
  }

  /** A page of history: the latest events (`since` undefined) or those after `since`. */
  async loadHistory(since) {
    const channel = this.channel;
    const result = $('history-result');
    const limit = $('history-limit').value.trim();
    try {
      const { body } = await this.api.history(channel, { since, limit });
      if (channel !== this.channel) return;
      this.history = { since, next: body.next };
      $('history-next').disabled = body.next === null;
      $('history-table').replaceChildren(
        ...body.events.map((e) =>
          el(
            'tr',
            { dataset: { id: e.id } },
            el('td', { class: 'id' }, el('button', { type: 'button', class: 'link', text: e.id, title: 'page on from here', onclick: () => ($('history-since').value = e.id) })),
            el('td', { class: 'time', text: clock(e.ts) }),
            el('td', { class: 'publisher', text: e.publisher ?? '' }),
            el('td', {}, el('code', { class: 'data', text: oneLine(e.data) })),
          ),
        ),
      );
      const what = since === undefined ? `the latest ${body.events.length}` : since === BEFORE_EVERY_ID ? `${body.events.length}, oldest first` : `${body.events.length} after ${since}`;
      // From before every id, "recovered" is false by definition (0-0 was never an event): only a real id's loss is news.
      const lost = since !== undefined && since !== BEFORE_EVERY_ID && !body.recovered ? `; ${since} is no longer held, so events after it may be missing (recovered:false)` : '';
      report(result, !lost, `${body.events.length ? what : 'no events'}${body.next ? '; more after this page' : ''}${lost}`);
    } catch (err) {
      report(result, false, err.describe?.() ?? String(err));
    }
  }

  async disconnect(user) {
    const result = $('disconnect-result');
    if (!user) return report(result, false, 'invalid_request: name the user (the token sub)');
    try {
      await this.api.disconnect(user);
      report(result, true, `disconnected ${user}: every connection of that user is closed with 4003`);
      if (this.channel) void this.refreshPresence();
    } catch (err) {
      report(result, false, err.describe?.() ?? String(err));
    }
  }
}
