import { CliError, ExitCode } from './exit-codes.js';

export interface UrlSetting {
  /** The option's value, if given (`--source-url`). */
  value: string | undefined;
  option: string;
  /** The environment variable read when the option is absent. */
  variable: string;
  fallback: string;
  protocols: readonly string[];
}

/**
 * The server address from an option, else the environment, else the local
 * default, checked here so that a typo is a usage error naming where it came
 * from, not a TypeError. A path is kept as a prefix: `http://host/relay`.
 */
export function serverUrl(setting: UrlSetting, env: Readonly<Record<string, string | undefined>>): URL {
  const fromEnv = env[setting.variable] || undefined;
  const [text, origin] = setting.value !== undefined ? [setting.value, setting.option] : fromEnv !== undefined ? [fromEnv, setting.variable] : [setting.fallback, 'the default'];
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(`${origin} is not a URL: "${text}" (expected e.g. ${setting.fallback})`, ExitCode.usage);
  }
  if (!setting.protocols.includes(url.protocol)) {
    throw new CliError(`${origin} must be a ${setting.protocols.map((p) => p.slice(0, -1)).join(' or ')} URL, got "${text}"`, ExitCode.usage);
  }
  return url;
}

/** `base` + `path`, keeping the base's path prefix (`new URL('/v1/...', base)` would drop it). */
export function endpoint(base: URL, path: string): URL {
  const url = new URL(base.href);
  url.pathname = `${base.pathname.replace(/\/+$/, '')}${path}`;
  url.search = '';
  url.hash = '';
  return url;
}
