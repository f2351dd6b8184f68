/**
 * The domain workers: which task queue each polls and which activities it hosts. Each domain
 * runs as its own process (`npm run worker -- --domain <name>`), so a crash or overload in one
 * domain leaves the others working.
 */
import type { Client } from '@temporalio/client';
import { createAccountingActivities } from '../activities/accounting';
import type { Registry } from '../activities/bus/registry';
import { createInventoryActivities } from '../activities/inventory';
import { createRestockActivities } from '../activities/inventory/restock';
import { createOrderActivities } from '../activities/orders';
import { createMembershipActivities } from '../activities/orders/membership';
import { createPaymentActivities } from '../activities/payment';
import { createHttpPspClient } from '../activities/payment/psp-client';
import { createReturnsActivities } from '../activities/returns';
import { createStylingActivities } from '../activities/styling';
import { createWarehouseActivities } from '../activities/warehouse';
import { createWarehouseIntegrationActivities } from '../activities/warehouse-integration';
import { createHttpWmsClient } from '../activities/warehouse-integration/wms-client';
import type { Config } from '../config';
import type { Database } from '../db/client';
import { ACCOUNTING_TASK_QUEUE } from '../workflows/accounting/contract';
import { INVENTORY_TASK_QUEUE } from '../workflows/inventory/contract';
import { ORDERS_TASK_QUEUE } from '../workflows/orders/contract';
import { PAYMENT_TASK_QUEUE } from '../workflows/payment/contract';
import { RETURNS_TASK_QUEUE } from '../workflows/returns/contract';
import { STYLING_TASK_QUEUE } from '../workflows/styling/contract';
import { WAREHOUSE_TASK_QUEUE } from '../workflows/warehouse/contract';
import { WAREHOUSE_INTEGRATION_TASK_QUEUE } from '../workflows/warehouse-integration/contract';

/** What a domain's activities may depend on. */
export interface WorkerDeps {
  config: Config;
  database: Database;
  client: Client;
  /** The subscriptions the bus delivers with; loaded from every workflows/<domain>/subscriptions.ts unless given. */
  registry?: Registry;
}

export interface DomainWorker {
  taskQueue: string;
  /** The domain's own activities (every worker also hosts the event layer's: workers/create-worker.ts). */
  activities(deps: WorkerDeps): object;
}

export const DOMAIN_WORKERS = {
  orders: {
    taskQueue: ORDERS_TASK_QUEUE,
    activities: ({ database }) => ({ ...createOrderActivities({ db: database.db }), ...createMembershipActivities({ db: database.db }) }),
  },
  styling: { taskQueue: STYLING_TASK_QUEUE, activities: ({ database }) => createStylingActivities({ db: database.db }) },
  inventory: {
    taskQueue: INVENTORY_TASK_QUEUE,

    activities: ({ database, config }) => ({
      ...createInventoryActivities(database),
      ...createRestockActivities({ cleaningTime: config.INVENTORY_CLEANING_TIME ?? config.RETURNS_CLEANING_TIME }),
    }),
  },
  'warehouse-integration': {
    taskQueue: WAREHOUSE_INTEGRATION_TASK_QUEUE,

    activities: ({ database, config }) => createWarehouseIntegrationActivities({ db: database.db, wms: createHttpWmsClient({ baseUrl: config.WMS_URL }) }),
  },
  payment: {
    taskQueue: PAYMENT_TASK_QUEUE,

    activities: ({ database, config }) => createPaymentActivities({ db: database.db, psp: createHttpPspClient({ baseUrl: config.PSP_URL }) }),
  },
  warehouse: { taskQueue: WAREHOUSE_TASK_QUEUE, activities: ({ database }) => createWarehouseActivities({ db: database.db }) },
  returns: { taskQueue: RETURNS_TASK_QUEUE, activities: ({ database }) => createReturnsActivities({ db: database.db }) },
  accounting: { taskQueue: ACCOUNTING_TASK_QUEUE, activities: ({ database }) => createAccountingActivities({ database }) },
} satisfies Record<string, DomainWorker>;

export type DomainWorkerName = keyof typeof DOMAIN_WORKERS;
export const DOMAIN_WORKER_NAMES = Object.keys(DOMAIN_WORKERS) as DomainWorkerName[];
