/**
 * The one registration list (workers/domains.ts) is the only place a domain is named: the bus's
 * registry, the workflow bundle and the event catalogue are derived from it, and the registry
 * refuses what a list entry cannot be trusted to get right.
 */
import { z } from 'zod';
import { defineEvent, subscribe } from '../workflows/bus/contract';
import { defineWorkflow } from '../workflows/workflow-ref';
import { DOMAIN_WORKERS, type DomainWorker } from '../workers/domains';
import { loadRegistry } from '../workers/registry';
import { domainWorkflowModules, PRELOADED_WORKFLOW_MODULES } from '../workers/workflow-bundle';

const Pinged = defineEvent('test.pinged', 'billing', z.object({ id: z.string() }));
const PingWorkflow = defineWorkflow<{ id: string }, void>('pingWorkflow', 'billing', 'billing');
const billing: DomainWorker = {
  taskQueue: 'billing',
  contract: { Pinged },
  subscriptions: [
    subscribe(Pinged, {
      name: 'billing.ping',
      domain: 'billing',
      workflowType: PingWorkflow.workflowType,
      taskQueue: PingWorkflow.taskQueue,
      workflowId: (e) => `ping:${e.data.id}`,
      start: true,
    }),
  ],
  activities: () => ({}),
};

describe('the registration list', () => {
  it('gives the bus every registered domain’s subscriptions and events, and nothing else', () => {
    const registry = loadRegistry();
    const listed = Object.values(DOMAIN_WORKERS).flatMap((d) => d.subscriptions.map((s) => s.name));
    expect(registry.subscriptions.map((s) => s.name).sort()).toEqual(listed.sort());
    expect(registry.events.get('order.placed')?.domain).toBe('orders');
  });

  it('adds a domain to the registry by its entry alone', () => {
    const registry = loadRegistry({ ...DOMAIN_WORKERS, billing });
    expect(registry.events.get('test.pinged')).toBe(Pinged);
    expect(registry.subscriptions.map((s) => s.name)).toContain('billing.ping');
  });

  it('refuses an event of a domain that is not in the list', () => {
    expect(() => loadRegistry({ orders: { ...DOMAIN_WORKERS.orders, contract: { Pinged } } })).toThrow(/test.pinged names domain billing/);
  });

  it('refuses a subscription to an event no registered contract defines', () => {
    expect(() => loadRegistry({ billing: { ...billing, contract: {} } })).toThrow(/billing.ping subscribes to test.pinged/);
  });

  it('bundles and preloads each registered domain’s workflows and contract', () => {
    const domains = Object.keys(DOMAIN_WORKERS).sort();
    expect(domainWorkflowModules().map((file) => file.split('/').at(-2))).toEqual(domains);
    for (const domain of domains) expect(PRELOADED_WORKFLOW_MODULES.some((file) => file.includes(`/workflows/${domain}/contract`))).toBe(true);
  });
});
