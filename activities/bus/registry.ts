/**
 * Finds every subscription and every event definition at run time (Node side only). Each domain
 * declares its subscriptions in `workflows/<domain>/subscriptions.ts`; nothing here lists them,
 * so adding a subscriber is a change in the subscriber's folder only.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { EventDefinition, Subscription } from '../../workflows/bus/contract';

const WORKFLOWS_DIR = path.resolve(__dirname, '../../workflows');

function isEventDefinition(value: unknown): value is EventDefinition {
  return typeof value === 'object' && value !== null && 'type' in value && 'domain' in value && 'schema' in value;
}
function isSubscription(value: unknown): value is Subscription {
  return typeof value === 'object' && value !== null && 'workflowType' in value && 'event' in value && 'workflowId' in value;
}

function loadModules(fileBase: string): Record<string, unknown>[] {
  const modules: Record<string, unknown>[] = [];
  for (const entry of fs.readdirSync(WORKFLOWS_DIR, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    for (const ext of ['.ts', '.js']) {
      const file = path.join(WORKFLOWS_DIR, entry.name, fileBase + ext);
      if (fs.existsSync(file)) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        modules.push(require(file) as Record<string, unknown>);
        break;
      }
    }
  }
  return modules;
}

/** The subscriptions and event catalogue the bus delivers with. */
export interface Registry {
  subscriptions: Subscription[];
  events: Map<string, EventDefinition>;
}

/** Loads all `subscriptions.ts` and `contract.ts` files under workflows/. */
export function loadRegistry(): Registry {
  const subscriptions: Subscription[] = [];
  for (const mod of loadModules('subscriptions')) {
    for (const value of Object.values(mod)) {
      if (Array.isArray(value)) subscriptions.push(...value.filter(isSubscription));
      else if (isSubscription(value)) subscriptions.push(value);
    }
  }
  const names = new Set<string>();
  for (const s of subscriptions) {
    if (names.has(s.name)) throw new Error(`two subscriptions are named ${s.name}`);
    names.add(s.name);
  }
  const events = new Map<string, EventDefinition>();
  for (const mod of loadModules('contract')) {
    for (const value of Object.values(mod)) if (isEventDefinition(value)) events.set(value.type, value);
  }
  return { subscriptions, events };
}
