/* global document, localStorage, sessionStorage -- browser globals; the lint config is set up for Node */
// Small helpers shared by the console's modules. Text from the network is
// only ever set as textContent, never parsed as HTML.

export const $ = (id) => document.getElementById(id);

/**
 * `el('li', { class: 'x', text: 'hi', dataset: { id } , onclick }, ...children)`.
 * Attributes that are false, null or undefined are left out.
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  node.append(...children.filter((c) => c !== undefined && c !== null && c !== false));
  return node;
}

const PREFIX = 'eventrelay.';

/** Storage that may be unavailable (private windows, blocked cookies): the console then just forgets. */
function storage(area) {
  return {
    get(key, fallback) {
      try {
        return area().getItem(PREFIX + key) ?? fallback;
      } catch {
        return fallback;
      }
    },
    set(key, value) {
      try {
        if (value === undefined || value === null || value === '') area().removeItem(PREFIX + key);
        else area().setItem(PREFIX + key, value);
      } catch {
        // Not remembered; nothing else depends on it.
      }
    },
  };
}

/** Remembered across visits (addresses, channels). */
export const remembered = storage(() => localStorage);
/** Kept for this tab only (token, publisher key): secrets are not left behind in the profile. */
export const perTab = storage(() => sessionStorage);

/** `14:03:07.042` in the viewer's time zone. */
export function clock(ts) {
  if (typeof ts !== 'number') return '';
  return `${new Date(ts).toLocaleTimeString(undefined, { hour12: false })}.${String(ts % 1000).padStart(3, '0')}`;
}

/** `code: message`, the way every error is shown. */
export function describeError(error) {
  if (!error) return '';
  return error.code ? `${error.code}: ${error.message ?? ''}` : String(error.message ?? error);
}

/** Shows `text` in a `.result` element, green or red. */
export function report(element, ok, text) {
  element.className = `result ${ok ? 'ok' : 'bad'}`;
  element.textContent = text;
}

/** One line of JSON, for compact rows. */
export function oneLine(data) {
  try {
    return JSON.stringify(data) ?? String(data);
  } catch {
    return String(data);
  }
}
