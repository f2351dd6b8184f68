/**
 * The bus's registry, derived from the one registration list (workers/domains.ts): every
 * registered domain's subscriptions and the events its contract defines. Nothing is discovered
 * by scanning folders: a domain is in the registry because it is in the list.
 */
import { isEventDefinition, type EventDefinition, type Registry, type Subscription } from '../workflows/bus/contract';
import { DOMAIN_WORKERS, type DomainWorker } from './domains';

export type { Registry };

/** The registry of `domains` (default: every registered domain), checked for the mistakes the type system cannot see. */
export function loadRegistry(domains: Record<string, DomainWorker> = DOMAIN_WORKERS): Registry {
  // Alphabetical by domain: the order deliveries are planned in is the order they were before the
  // list existed (the folders were read in that order), so new runs plan as old ones did.
  const keys = Object.keys(domains).sort();
  const subscriptions: Subscription[] = keys.flatMap((key) => domains[key]!.subscriptions);
  const names = new Set<string>();
  for (const s of subscriptions) {
    if (names.has(s.name)) throw new Error(`two subscriptions are named ${s.name}`);
    names.add(s.name);
  }
  const events = new Map<string, EventDefinition>();
  for (const key of keys) {
    for (const value of Object.values(domains[key]!.contract)) if (isEventDefinition(value)) events.set(value.type, value);
  }
  const known = new Set([...keys, 'events']);
  for (const def of events.values()) {
    if (!known.has(def.domain)) throw new Error(`event ${def.type} names domain ${def.domain}, which is not in workers/domains.ts`);
  }
  for (const s of subscriptions) {
    if (!known.has(s.domain)) throw new Error(`${s.name} names domain ${s.domain}, which is not in workers/domains.ts`);
    if (!events.has(s.event.type)) throw new Error(`${s.name} subscribes to ${s.event.type}, which no registered domain's contract defines`);
  }
  return { subscriptions, events };
}
