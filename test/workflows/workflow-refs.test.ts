/**
 * Every typed workflow reference names a workflow the bundle exports, with the signature the
 * reference promises. The `satisfies` lines are checked by `npm run typecheck` (a changed input or
 * result fails there); the test below fails on a renamed workflow or a reference nobody lists.
 */
import { LedgerWorkflow, MonthlyCloseScheduledWorkflow, MonthlyCloseWorkflow } from '../../workflows/accounting/contract';
import { ReservationWorkflow, RestockWorkflow, SaleWorkflow } from '../../workflows/inventory/contract';
import { MembershipWorkflow, OrderWorkflow } from '../../workflows/orders/contract';
import { ChargeWorkflow, RefundWorkflow } from '../../workflows/payment/contract';
import { ReturnWorkflow } from '../../workflows/returns/contract';
import { StylingWorkflow } from '../../workflows/styling/contract';
import { ReturnReceiptWorkflow, ShipmentWorkflow } from '../../workflows/warehouse/contract';
import { ReturnPickupWorkflow, WarehouseInstructionWorkflow } from '../../workflows/warehouse-integration/contract';
import type { AnyWorkflowRef, WorkflowOf } from '../../workflows/workflow-ref';
import * as accounting from '../../workflows/accounting';
import * as inventory from '../../workflows/inventory';
import * as orders from '../../workflows/orders';
import * as payment from '../../workflows/payment';
import * as returns from '../../workflows/returns';
import * as styling from '../../workflows/styling';
import * as warehouse from '../../workflows/warehouse';
import * as warehouseIntegration from '../../workflows/warehouse-integration';
import { bundledWorkflows } from '../../workers/workflow-bundle';

const workflows = { ...accounting, ...inventory, ...orders, ...payment, ...returns, ...styling, ...warehouse, ...warehouseIntegration };

const implemented: [AnyWorkflowRef, unknown][] = [
  [OrderWorkflow, workflows.orderWorkflow satisfies WorkflowOf<typeof OrderWorkflow>],
  [MembershipWorkflow, workflows.membershipWorkflow satisfies WorkflowOf<typeof MembershipWorkflow>],
  [StylingWorkflow, workflows.stylingWorkflow satisfies WorkflowOf<typeof StylingWorkflow>],
  [ReservationWorkflow, workflows.reservationWorkflow satisfies WorkflowOf<typeof ReservationWorkflow>],
  [SaleWorkflow, workflows.saleWorkflow satisfies WorkflowOf<typeof SaleWorkflow>],
  [RestockWorkflow, workflows.restockWorkflow satisfies WorkflowOf<typeof RestockWorkflow>],
  [WarehouseInstructionWorkflow, workflows.warehouseInstructionWorkflow satisfies WorkflowOf<typeof WarehouseInstructionWorkflow>],
  [ReturnPickupWorkflow, workflows.returnPickupWorkflow satisfies WorkflowOf<typeof ReturnPickupWorkflow>],
  [ShipmentWorkflow, workflows.shipmentWorkflow satisfies WorkflowOf<typeof ShipmentWorkflow>],
  [ReturnReceiptWorkflow, workflows.returnReceiptWorkflow satisfies WorkflowOf<typeof ReturnReceiptWorkflow>],
  [ReturnWorkflow, workflows.returnWorkflow satisfies WorkflowOf<typeof ReturnWorkflow>],
  [ChargeWorkflow, workflows.chargeWorkflow satisfies WorkflowOf<typeof ChargeWorkflow>],
  [RefundWorkflow, workflows.refundWorkflow satisfies WorkflowOf<typeof RefundWorkflow>],
  [LedgerWorkflow, workflows.ledgerWorkflow satisfies WorkflowOf<typeof LedgerWorkflow>],
  [MonthlyCloseWorkflow, workflows.monthlyCloseWorkflow satisfies WorkflowOf<typeof MonthlyCloseWorkflow>],
  [MonthlyCloseScheduledWorkflow, workflows.monthlyCloseScheduledWorkflow satisfies WorkflowOf<typeof MonthlyCloseScheduledWorkflow>],
];

describe('workflow references', () => {
  it.each(implemented.map(([ref, fn]) => [ref.workflowType, ref, fn] as const))('names the exported workflow %s', (name, ref, fn) => {
    expect(typeof fn).toBe('function');
    expect((fn as { name: string }).name).toBe(name);
    expect((workflows as Record<string, unknown>)[ref.workflowType]).toBe(fn);
  });

  it('covers every workflow the bundle exports', () => {
    // What the bundle really holds: every registered domain's workflow module.
    const exported = bundledWorkflows()
      .map((w) => w.workflowType)
      .sort();
    expect(implemented.map(([ref]) => ref.workflowType).sort()).toEqual(exported);
  });
});
