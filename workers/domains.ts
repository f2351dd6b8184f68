/**
 * The one registration list of domains. Each entry names the domain (its key is also its folder
 * name in every layer: workflows/<key>/, activities/<key>/, store/<key>/, db/schema/<key>.ts), the
 * task queue its worker polls, its contract (whose events the bus validates), its subscriptions
 * and the activities its worker hosts. Everything else is derived from this list: the bus's
 * registry (workers/registry.ts), the workflow bundle's entry and preloaded contracts
 * (workers/workflow-bundle.ts), the worker processes `npm start` runs, the event catalogue
 * (scripts/catalogue.ts). Adding a domain: docs/architecture.md, "Adding a domain".
 *
 * Each domain runs as its own process (`npm run worker -- --domain <name>`), so a crash or
 * overload in one domain leaves the others working.
 */
import type { Client } from '@temporalio/client';
import { createAccountingActivities } from '../activities/accounting';
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
import * as accountingContract from '../workflows/accounting/contract';
import { ACCOUNTING_TASK_QUEUE } from '../workflows/accounting/contract';
import { accountingSubscriptions } from '../workflows/accounting/subscriptions';
import type { Registry, Subscription } from '../workflows/bus/contract';
import * as inventoryContract from '../workflows/inventory/contract';
import { INVENTORY_TASK_QUEUE } from '../workflows/inventory/contract';
import { inventorySubscriptions, restockSubscriptions, saleSubscriptions } from '../workflows/inventory/subscriptions';
import * as ordersContract from '../workflows/orders/contract';
import { ORDERS_TASK_QUEUE } from '../workflows/orders/contract';
import { membershipSubscriptions, ordersSubscriptions } from '../workflows/orders/subscriptions';
import * as paymentContract from '../workflows/payment/contract';
import { PAYMENT_TASK_QUEUE } from '../workflows/payment/contract';
import { paymentSubscriptions } from '../workflows/payment/subscriptions';
import * as returnsContract from '../workflows/returns/contract';
import { RETURNS_TASK_QUEUE } from '../workflows/returns/contract';
import { returnsSubscriptions } from '../workflows/returns/subscriptions';
import * as stylingContract from '../workflows/styling/contract';
import { STYLING_TASK_QUEUE } from '../workflows/styling/contract';
import { stylingSubscriptions } from '../workflows/styling/subscriptions';
import * as warehouseContract from '../workflows/warehouse/contract';
import { WAREHOUSE_TASK_QUEUE } from '../workflows/warehouse/contract';
import { warehouseSubscriptions } from '../workflows/warehouse/subscriptions';
import * as warehouseIntegrationContract from '../workflows/warehouse-integration/contract';
import { WAREHOUSE_INTEGRATION_TASK_QUEUE } from '../workflows/warehouse-integration/contract';
import { returnPickupSubscriptions, warehouseIntegrationSubscriptions } from '../workflows/warehouse-integration/subscriptions';

/** What a domain's activities may depend on. */
export interface WorkerDeps {
  config: Config;
  database: Database;
  client: Client;
  /** The subscriptions the bus delivers with; every registered domain's (workers/registry.ts) unless given. */
  registry?: Registry;
}

export interface DomainWorker {
  taskQueue: string;
  /** The domain's contract module: its event definitions are the events the bus accepts from it. */
  contract: object;
  /** What the domain's workflows subscribe to. */
  subscriptions: Subscription[];
  /** The domain's own activities (every worker also hosts the event layer's: workers/create-worker.ts). */
  activities(deps: WorkerDeps): object;
}

export const DOMAIN_WORKERS = {
  orders: {
    taskQueue: ORDERS_TASK_QUEUE,
    contract: ordersContract,
    subscriptions: [...ordersSubscriptions, ...membershipSubscriptions],
    activities: ({ database }) => ({ ...createOrderActivities({ db: database.db }), ...createMembershipActivities({ db: database.db }) }),
  },
  styling: {
    taskQueue: STYLING_TASK_QUEUE,
    contract: stylingContract,
    subscriptions: stylingSubscriptions,
    activities: ({ database }) => createStylingActivities({ db: database.db }),
  },
  inventory: {
    taskQueue: INVENTORY_TASK_QUEUE,
    contract: inventoryContract,
    subscriptions: [...inventorySubscriptions, ...saleSubscriptions, ...restockSubscriptions],

    activities: ({ database, config }) => ({
      ...createInventoryActivities(database),
      ...createRestockActivities({ cleaningTime: config.INVENTORY_CLEANING_TIME ?? config.RETURNS_CLEANING_TIME }),
    }),
  },
  'warehouse-integration': {
    taskQueue: WAREHOUSE_INTEGRATION_TASK_QUEUE,
    contract: warehouseIntegrationContract,
    subscriptions: [...warehouseIntegrationSubscriptions, ...returnPickupSubscriptions],

    activities: ({ database, config }) => createWarehouseIntegrationActivities({ db: database.db, wms: createHttpWmsClient({ baseUrl: config.WMS_URL }) }),
  },
  payment: {
    taskQueue: PAYMENT_TASK_QUEUE,
    contract: paymentContract,
    subscriptions: paymentSubscriptions,

    activities: ({ database, config }) => createPaymentActivities({ db: database.db, psp: createHttpPspClient({ baseUrl: config.PSP_URL }) }),
  },
  warehouse: {
    taskQueue: WAREHOUSE_TASK_QUEUE,
    contract: warehouseContract,
    subscriptions: warehouseSubscriptions,
    activities: ({ database }) => createWarehouseActivities({ db: database.db }),
  },
  returns: {
    taskQueue: RETURNS_TASK_QUEUE,
    contract: returnsContract,
    subscriptions: returnsSubscriptions,
    activities: ({ database }) => createReturnsActivities({ db: database.db }),
  },
  accounting: {
    taskQueue: ACCOUNTING_TASK_QUEUE,
    contract: accountingContract,
    subscriptions: accountingSubscriptions,
    activities: ({ database }) => createAccountingActivities({ database }),
  },
} satisfies Record<string, DomainWorker>;

export type DomainWorkerName = keyof typeof DOMAIN_WORKERS;
export const DOMAIN_WORKER_NAMES = Object.keys(DOMAIN_WORKERS) as DomainWorkerName[];
