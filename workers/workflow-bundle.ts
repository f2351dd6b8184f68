/**
 * What the workflow bundle is built from: the workflows and the workflow interceptors. Every
 * bundle (`npm start`, tests, a worker bundling on its own) uses these, so all of them run the
 * same workflow code and replay each other's histories (the interceptors add headers and spans,
 * never commands: a bundle with tracing replays one without, and back).
 */
import path from 'node:path';

const WORKFLOWS_DIR = path.dirname(require.resolve('../workflows'));
const contract = (domain: string, file = 'contract') => require.resolve(path.join(WORKFLOWS_DIR, domain, file));

/**
 * Modules evaluated once per worker thread and shared by every workflow in it, instead of once
 * per workflow: zod and the contracts, whose event schemas are built at module load. In the
 * reusable V8 context each workflow otherwise re-runs the whole bundle's module scope, and the
 * schemas alone cost tens of milliseconds of CPU and hundreds of kilobytes per workflow
 * (measured: bench/results/pipeline.md; the SDK's issue #2227). Safe because they keep no
 * per-workflow state: declarations only (schemas, event, signal, query and update definitions).
 */
export const PRELOADED_WORKFLOW_MODULES = [
  require.resolve('zod'),
  contract('bus'),
  contract('orders'),
  contract('orders', 'membership-contract'),
  contract('styling'),
  contract('inventory'),
  contract('warehouse-integration'),
  contract('warehouse'),
  contract('returns'),
  contract('payment'),
  contract('accounting'),
  require.resolve(path.join(WORKFLOWS_DIR, 'failures')),
  require.resolve(path.join(WORKFLOWS_DIR, 'search-attributes')),
];

/** What a bundle is built from; `tracing` adds the OpenTelemetry interceptors (first, so spans wrap the rest). */
export function workflowBundleOptions({ tracing }: { tracing: boolean }) {
  return {
    workflowsPath: require.resolve('../workflows'),
    workflowInterceptorModules: [...(tracing ? [require.resolve('../workflows/tracing-interceptors')] : []), require.resolve('../workflows/interceptors')],
    preloadModules: PRELOADED_WORKFLOW_MODULES,
  };
}
