/**
 * `npm run deploy -- <command>`: rolls a build of the workers out per domain (Worker Deployment
 * Versioning; docs/operations.md, "Deploying new workflow code"). Start the new build's workers
 * first (WORKER_BUILD_ID=<build>), beside the old ones; then:
 *
 *   status                              each domain's current and ramping build, its versions, and
 *                                       how many running workflows are still on each
 *   ramp <build> <percent> [domain...]  send that share of new (and auto-upgrading) workflows to it
 *   promote <build> [domain...]         make it current: every new workflow starts on it
 *   rollback <build> [domain...]        make an earlier build current again (its workers must run)
 *   retirable <build> [domain...]       exit 0 when no running workflow is left on it (stop its workers)
 *
 * Domains default to every registered one (workers/domains.ts).
 */
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../config';
import { temporalConnectionOptions } from '../config/temporal';
import { deploymentNameOf, describeDeployment, setCurrentBuild, setRampingBuild, workflowsOnBuild, workflowsOnBuildQuery } from '../workers/deployment';
import { DOMAIN_WORKER_NAMES } from '../workers/domains';

const USAGE =
  'usage: npm run deploy -- status | ramp <build> <percent> [domain...] | promote <build> [domain...] | rollback <build> [domain...] | retirable <build> [domain...]';

function domainsOf(args: string[]): string[] {
  const unknown = args.filter((d) => !(DOMAIN_WORKER_NAMES as string[]).includes(d));
  if (unknown.length) throw new Error(`unknown domain(s) ${unknown.join(', ')}: one of ${DOMAIN_WORKER_NAMES.join(', ')}`);
  return args.length ? args : [...DOMAIN_WORKER_NAMES];
}

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  const config = loadConfig();
  const connection = await Connection.connect(temporalConnectionOptions(config));
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  try {
    switch (command) {
      case 'status': {
        for (const domain of domainsOf(rest)) {
          const name = deploymentNameOf(config, domain);
          const state = await describeDeployment(client, name);
          if (!state) {
            console.log(`${name}: unversioned (no versioned worker has polled)`);
            continue;
          }
          const ramp = state.rampingBuildId ? `, ramping ${state.rampingBuildId} at ${state.rampingPercentage ?? 0} %` : '';
          console.log(`${name}: current ${state.currentBuildId ?? '(none)'}${ramp}`);
          for (const v of state.versions) {
            console.log(`  ${v.buildId}: ${v.status}${v.drainage ? `, ${v.drainage}` : ''}, ${await workflowsOnBuild(client, name, v.buildId)} running on it`);
          }
        }
        return 0;
      }
      case 'ramp': {
        const [build, percent, ...domains] = rest;
        const share = Number(percent);
        if (!build || !Number.isFinite(share) || share < 0 || share > 100) throw new Error(USAGE);
        for (const domain of domainsOf(domains)) {
          await setRampingBuild(client, deploymentNameOf(config, domain), build, share);
          console.log(`${deploymentNameOf(config, domain)}: ramping ${build} at ${share} %`);
        }
        return 0;
      }
      case 'promote':
      case 'rollback': {
        const [build, ...domains] = rest;
        if (!build) throw new Error(USAGE);
        for (const domain of domainsOf(domains)) {
          await setCurrentBuild(client, deploymentNameOf(config, domain), build);
          console.log(`${deploymentNameOf(config, domain)}: current ${build}`);
        }
        return 0;
      }
      case 'retirable': {
        const [build, ...domains] = rest;
        if (!build) throw new Error(USAGE);
        let left = 0;
        for (const domain of domainsOf(domains)) {
          const name = deploymentNameOf(config, domain);
          const count = await workflowsOnBuild(client, name, build);
          left += count;
          console.log(`${name}: ${count} running on ${build}  (${workflowsOnBuildQuery(name, build)})`);
        }
        return left === 0 ? 0 : 1;
      }
      default:
        console.error(USAGE);
        return 2;
    }
  } finally {
    await connection.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
