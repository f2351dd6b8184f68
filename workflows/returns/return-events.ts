/**
 * What a return follows after the delivery that started it, and what each event does to it: the
 * one table from which the returns subscriptions (workflows/returns/subscriptions.ts) and
 * returnWorkflow's inbox filter are derived. Each entry names its subscription (the deliveries'
 * dedupe key).
 */
import { msToNumber } from '@temporalio/common/lib/time';
import { log } from '@temporalio/workflow';
import { HandlerTable, on } from '../bus/handlers';
import { ItemRestocked, ItemRetired, ItemSold } from '../inventory/contract';
import { PurchaseRequested, ReturnRequested } from '../orders/contract';
import { PaymentFailed } from '../payment/contract';
import { ReturnArrived } from '../warehouse/contract';
import type { ReturnMachine } from './return-machine';

export const RETURN_EVENTS = new HandlerTable<ReturnMachine>([
  on(
    ReturnRequested,
    (m) => {
      if (m.phase !== 'renting') return;
      m.phase = 'return_requested';
      m.arrivalDeadline = Date.now() + msToNumber(m.policy.arrivalWindow);
    },
    { name: 'returns.return-requested' },
  ),
  on(
    ReturnArrived,
    (m) => {
      m.arrived = true;
      m.phase = 'inspecting';
    },
    { name: 'returns.inspect-arrived-box' },
  ),
  on(
    PurchaseRequested,
    (m, e) => {
      const b = m.item(e.data.itemId);
      if (b) b.purchaseRequested = true;
      if (b?.fate !== 'out') return log.info('purchase of an item no longer out ignored', { orderId: m.orderId, itemId: e.data.itemId, fate: b?.fate });
      m.startBuying(b);
      if (e.data.reason === 'member' && !m.arrived) b.keptByMember = true;
    },
    { name: 'returns.exclude-purchased-item' },
  ),
  on(
    ItemSold,
    (m, e) => {
      const b = m.item(e.data.itemId);
      if (!b) return;
      b.purchaseRequested = true;
      if (b.fate === 'out' || b.fate === 'buying' || b.fate === 'owed') b.fate = 'sold';
    },
    { name: 'returns.item-sold' },
  ),
  on(
    ItemRestocked,
    (m, e) => {
      const b = m.item(e.data.itemId);
      if (b?.fate === 'inspected') b.fate = 'restocked';
    },
    { name: 'returns.item-restocked' },
  ),
  on(
    ItemRetired,
    (m, e) => {
      const b = m.item(e.data.itemId);
      if (b?.fate === 'inspected' || b?.fate === 'lost') b.fate = 'retired';
    },
    { name: 'returns.item-retired' },
  ),
  // A purchase that failed for good: the item is owed back with the box, or lost.
  on(
    PaymentFailed,
    (m, e) => {
      const b = m.item(e.data.itemId ?? '');
      if (b?.fate !== 'buying') return;
      b.fate = 'owed';
      b.failedPurchase = true;
      // Not paid for: the member must send it back with the box, whoever asked to buy it.
      if (!m.arrived) b.keptByMember = false;
      b.lostAt = Math.max(Date.now(), m.deadline) + msToNumber(m.policy.lostAfter);
    },
    { name: 'returns.purchase-failed', when: (e) => e.data.purpose === 'purchase' && !!e.data.orderId && !!e.data.itemId },
  ),
]);
