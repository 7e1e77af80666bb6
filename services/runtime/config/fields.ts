/**
 * Building blocks of the configuration schema (schema.ts): one field per
 * environment variable, holding its name, how it is parsed and bounded, its
 * default, and the sentences the README's configuration table shows. The
 * `Config` type, validation and that table all come from the same rows.
 */
export type Env = Readonly<Record<string, string | undefined>>;

/** What a default may depend on besides the variable itself. */
export interface FieldContext {
  env: Env;
  /** Whether stdout is a terminal. */
  isTty: boolean;
}

export interface Field<T> {
  /** The environment variable. */
  readonly env: string;
  /** The README's "meaning" column: what it does, its bounds, its unit. */
  readonly doc: string;
  /** The README's "default" column. */
  readonly defaultText: string;
  defaultValue(context: FieldContext): T;
  /** Parses a set, non-blank, trimmed value; a problem is returned as a string naming the variable. */
  parse(raw: string): { value: T } | { problem: string };
}

export type FieldValue<F> = F extends Field<infer T> ? T : never;

interface Common<T> {
  doc: string;
  default: T | ((context: FieldContext) => T);
  /** How the README shows the default, when `String(default)` would not say it well. */
  defaultText?: string;
}

function field<T>(env: string, options: Common<T>, parse: Field<T>['parse']): Field<T> {
  const { default: fallback } = options;
  return {
    env,
    doc: options.doc,
    defaultText: options.defaultText ?? (typeof fallback === 'function' || fallback === undefined ? '—' : `\`${String(fallback)}\``),
    defaultValue: (context) => (typeof fallback === 'function' ? (fallback as (c: FieldContext) => T)(context) : fallback),
    parse,
  };
}

/** A whole number within [min, max]. */
export function int(env: string, options: Common<number> & { min: number; max: number }): Field<number> {
  return field<number>(env, options, (raw) => {
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < options.min || value > options.max) {
      return { problem: `${env} must be a whole number from ${options.min} to ${options.max}, got "${raw}"` };
    }
    return { value };
  });
}

/** A decimal number within [min, max]. */
export function number(env: string, options: Common<number> & { min: number; max: number }): Field<number> {
  return field<number>(env, options, (raw) => {
    const value = Number(raw);
    if (!/^-?\d+(\.\d+)?$/.test(raw) || value < options.min || value > options.max) {
      return { problem: `${env} must be a number from ${options.min} to ${options.max}, got "${raw}"` };
    }
    return { value };
  });
}

export function bool(env: string, options: Common<boolean>): Field<boolean> {
  return field<boolean>(env, options, (raw) => {
    const lower = raw.toLowerCase();
    if (['true', '1', 'yes'].includes(lower)) return { value: true };
    if (['false', '0', 'no'].includes(lower)) return { value: false };
    return { problem: `${env} must be true or false, got "${raw}"` };
  });
}

export function oneOf<T extends string>(env: string, allowed: readonly T[], options: Common<T>): Field<T> {
  return field<T>(env, options, (raw) => {
    const lower = raw.toLowerCase();
    return (allowed as readonly string[]).includes(lower) ? { value: lower as T } : { problem: `${env} must be one of ${allowed.join(', ')}, got "${raw}"` };
  });
}

type TextOptions = Omit<Common<string>, 'default'> & { check?: (value: string) => string | undefined };

/** Free text, optionally checked: with a default it is always a string, without one absent is undefined. */
export function text(env: string, options: TextOptions & { default: string }): Field<string>;
export function text(env: string, options: TextOptions): Field<string | undefined>;
export function text(env: string, options: TextOptions & { default?: string }): Field<string | undefined> {
  return field<string | undefined>(env, { ...options, default: options.default }, (raw) => {
    const problem = options.check?.(raw);
    return problem === undefined ? { value: raw } : { problem: `${env} ${problem}` };
  });
}

/** A comma-separated list; `check` returns what is wrong with an item (it must not echo secrets). */
export function list(
  env: string,
  options: Common<string[]> & { check?: (item: string) => string | undefined },
): Field<string[]> {
  return field<string[]>(env, options, (raw) => {
    const items = splitList(raw);
    for (const item of items) {
      const problem = options.check?.(item);
      if (problem !== undefined) return { problem: `${env}: ${problem}` };
    }
    return { value: items };
  });
}

/** A field with its own parser (e.g. TRUST_PROXY's several forms). */
export function custom<T>(env: string, options: Common<T> & { parse(raw: string): T | undefined; expected: string }): Field<T> {
  return field<T>(env, options, (raw) => {
    const value = options.parse(raw);
    return value === undefined ? { problem: `${env} must be ${options.expected}, got "${raw}"` } : { value };
  });
}

export function splitList(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}
