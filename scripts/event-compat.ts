/**
 * Whether today's event schemas can still read what the last release wrote. Stored events
 * (`events.event_log`) are read again by ledger sweeps, resets and replays, and during a rolling
 * deploy a subscriber of the old release receives events of the new one: both break when a field
 * goes away, changes type, becomes required, or a value stops being allowed. Pure: compares two
 * JSON Schemas as `z.toJSONSchema` writes them (draft-07), and reports, never throws, so a schema
 * it does not understand fails the check instead of passing it.
 */

/** A JSON Schema as zod emits it for event data. */
export type JsonSchema = { [keyword: string]: unknown };

/** The kinds of change that make stored or in-flight events unreadable. */
export type IncompatibleChange =
  | 'event removed'
  | 'field removed'
  | 'type changed'
  | 'made required'
  | 'required field added'
  | 'enum value removed'
  | 'constraint tightened'
  | 'not understood';

/** One breaking change, located by event type and field path (`data.address.city`, `data.items[].sku`). */
export interface Incompatibility {
  eventType: string;
  path: string;
  change: IncompatibleChange;
  detail: string;
}

// Everything zod 4 emits for the schemas we write today. Anything else (a $ref, allOf, a tuple)
// is reported as "not understood" rather than skipped: skipping would let a break through.
const UNDERSTOOD = new Set([
  '$schema',
  'title',
  'description',
  'default',
  'examples',
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'const',
  'anyOf',
  'oneOf',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'pattern',
  'format',
]);

type Kind = 'string' | 'number' | 'integer' | 'boolean' | 'null' | 'object' | 'array' | 'any';

interface Branch {
  kind: Kind;
  schema: JsonSchema;
}

const isSchema = (v: unknown): v is JsonSchema => typeof v === 'object' && v !== null && !Array.isArray(v);

function kindOfValue(value: unknown): Kind {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value as Kind;
}

/** A schema as the alternatives it accepts: `anyOf`/`oneOf` and `type: [a, b]` split into one branch per type. */
function branches(schema: JsonSchema): Branch[] {
  for (const key of ['anyOf', 'oneOf'] as const) {
    const alternatives = schema[key];
    if (Array.isArray(alternatives)) return alternatives.filter(isSchema).flatMap(branches);
  }
  const type = schema.type;
  if (Array.isArray(type)) return type.map((t) => ({ kind: t as Kind, schema: { ...schema, type: t } }));
  if (typeof type === 'string') return [{ kind: type as Kind, schema }];
  if ('const' in schema) return [{ kind: kindOfValue(schema.const), schema }];
  if (Array.isArray(schema.enum)) return [...new Set(schema.enum.map(kindOfValue))].map((kind) => ({ kind, schema }));
  return [{ kind: 'any', schema }];
}

// An integer that was allowed before must still be allowed: a number branch accepts it too.
function accepts(next: Kind, previous: Kind): boolean {
  return next === previous || next === 'any' || (next === 'number' && previous === 'integer');
}

function allowedValues(schema: JsonSchema): unknown[] | undefined {
  if ('const' in schema) return [schema.const];
  return Array.isArray(schema.enum) ? schema.enum : undefined;
}

interface Bound {
  value: number;
  exclusive: boolean;
}

// On integers `exclusiveMinimum: 0` and `minimum: 1` are the same bound; compare them as such.
function lowerBound(schema: JsonSchema, integer: boolean): Bound | undefined {
  const min = typeof schema.minimum === 'number' ? schema.minimum : undefined;
  const exMin = typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum : undefined;
  const bounds: Bound[] = [];
  if (min !== undefined) bounds.push({ value: min, exclusive: false });
  if (exMin !== undefined) bounds.push(integer ? { value: Math.floor(exMin) + 1, exclusive: false } : { value: exMin, exclusive: true });
  return bounds.sort((a, b) => b.value - a.value || Number(b.exclusive) - Number(a.exclusive))[0];
}
function upperBound(schema: JsonSchema, integer: boolean): Bound | undefined {
  const max = typeof schema.maximum === 'number' ? schema.maximum : undefined;
  const exMax = typeof schema.exclusiveMaximum === 'number' ? schema.exclusiveMaximum : undefined;
  const bounds: Bound[] = [];
  if (max !== undefined) bounds.push({ value: max, exclusive: false });
  if (exMax !== undefined) bounds.push(integer ? { value: Math.ceil(exMax) - 1, exclusive: false } : { value: exMax, exclusive: true });
  return bounds.sort((a, b) => a.value - b.value || Number(b.exclusive) - Number(a.exclusive))[0];
}
const showBound = (b: Bound | undefined, side: 'min' | 'max'): string =>
  b === undefined ? 'none' : `${side === 'min' ? (b.exclusive ? '>' : '≥') : b.exclusive ? '<' : '≤'} ${b.value}`;

class Comparison {
  readonly found: Incompatibility[] = [];

  constructor(private readonly eventType: string) {}

  report(path: string, change: IncompatibleChange, detail: string): void {
    this.found.push({ eventType: this.eventType, path, change, detail });
  }

  schema(previous: JsonSchema, next: JsonSchema, path: string): void {
    const unknown = [...Object.keys(previous), ...Object.keys(next)].filter((k) => !UNDERSTOOD.has(k));
    if (unknown.length > 0) {
      this.report(path, 'not understood', `keyword ${[...new Set(unknown)].sort().join(', ')}: teach scripts/event-compat.ts to compare it`);
      return;
    }
    const nextBranches = branches(next);
    const missing: Kind[] = [];
    for (const old of branches(previous)) {
      const match = nextBranches.find((b) => b.kind === old.kind) ?? nextBranches.find((b) => accepts(b.kind, old.kind));
      if (!match) missing.push(old.kind);
      else if (match.kind !== 'any') this.branch(old, match, path);
    }
    if (missing.length > 0) {
      const kinds = (bs: Branch[]) => [...new Set(bs.map((b) => b.kind))].join(' | ');
      this.report(path, 'type changed', `${kinds(branches(previous))} → ${kinds(nextBranches)}`);
    }
  }

  private branch(previous: Branch, next: Branch, path: string): void {
    const before = previous.schema;
    const after = next.schema;
    const oldValues = allowedValues(before);
    const newValues = allowedValues(after);
    if (newValues) {
      if (!oldValues) this.report(path, 'constraint tightened', `now only ${newValues.map((v) => JSON.stringify(v)).join(', ')}`);
      else {
        const removed = oldValues.filter((v) => !newValues.some((n) => n === v));
        if (removed.length > 0) this.report(path, 'enum value removed', removed.map((v) => JSON.stringify(v)).join(', '));
      }
    }
    this.bounds(before, after, path, next.kind === 'integer');
    for (const key of ['pattern', 'format'] as const) {
      if (after[key] !== undefined && after[key] !== before[key]) {
        this.report(path, 'constraint tightened', `${key} ${JSON.stringify(before[key] ?? null)} → ${JSON.stringify(after[key])}`);
      }
    }
    if (next.kind === 'object') this.object(before, after, path);
    if (next.kind === 'array') {
      if (isSchema(before.items) && isSchema(after.items)) this.schema(before.items, after.items, `${path}[]`);
      else if (isSchema(after.items)) this.report(`${path}[]`, 'constraint tightened', 'items now have a schema');
    }
  }

  private bounds(before: JsonSchema, after: JsonSchema, path: string, integer: boolean): void {
    const pairs = [
      ['min', lowerBound(before, integer), lowerBound(after, integer)],
      ['max', upperBound(before, integer), upperBound(after, integer)],
    ] as const;
    for (const [side, old, now] of pairs) {
      if (now === undefined) continue;
      const tighter =
        old === undefined || (side === 'min' ? now.value > old.value : now.value < old.value) || (now.value === old.value && now.exclusive && !old.exclusive);
      if (tighter) this.report(path, 'constraint tightened', `${showBound(old, side)} → ${showBound(now, side)}`);
    }
    for (const [min, max] of [
      ['minLength', 'maxLength'],
      ['minItems', 'maxItems'],
    ] as const) {
      const [oldMin, newMin] = [before[min], after[min]] as (number | undefined)[];
      const [oldMax, newMax] = [before[max], after[max]] as (number | undefined)[];
      if (newMin !== undefined && (oldMin === undefined || newMin > oldMin))
        this.report(path, 'constraint tightened', `${min} ${oldMin ?? 'none'} → ${newMin}`);
      if (newMax !== undefined && (oldMax === undefined || newMax < oldMax))
        this.report(path, 'constraint tightened', `${max} ${oldMax ?? 'none'} → ${newMax}`);
    }
  }

  private object(before: JsonSchema, after: JsonSchema, path: string): void {
    const oldProps = isSchema(before.properties) ? before.properties : {};
    const newProps = isSchema(after.properties) ? after.properties : {};
    const oldRequired = new Set(Array.isArray(before.required) ? (before.required as string[]) : []);
    const newRequired = Array.isArray(after.required) ? (after.required as string[]) : [];
    for (const [name, schema] of Object.entries(oldProps)) {
      const next = newProps[name];
      if (!isSchema(next)) this.report(`${path}.${name}`, 'field removed', oldRequired.has(name) ? 'was required' : 'was optional');
      else if (isSchema(schema)) this.schema(schema, next, `${path}.${name}`);
    }
    for (const name of newRequired) {
      if (oldRequired.has(name)) continue;
      if (name in oldProps) this.report(`${path}.${name}`, 'made required', 'was optional: stored events without it no longer parse');
      else this.report(`${path}.${name}`, 'required field added', 'stored events do not have it; add it as optional');
    }
  }
}

/**
 * Every way `current` (event type → JSON Schema of its data) cannot read what `previous` (the
 * last release's snapshot) described. Added events and added optional fields are compatible.
 */
export function compareEventSchemas(previous: Record<string, JsonSchema>, current: Record<string, JsonSchema>): Incompatibility[] {
  const found: Incompatibility[] = [];
  for (const eventType of Object.keys(previous).sort()) {
    const next = current[eventType];
    if (!next) {
      found.push({ eventType, path: 'data', change: 'event removed', detail: 'stored events of this type and its subscribers lose their schema' });
      continue;
    }
    const comparison = new Comparison(eventType);
    comparison.schema(previous[eventType], next, 'data');
    found.push(...comparison.found);
  }
  return found;
}

/** One line per incompatibility, for test failures and the generator's output. */
export function describeIncompatibility(i: Incompatibility): string {
  return `${i.eventType} ${i.path}: ${i.change} (${i.detail})`;
}
