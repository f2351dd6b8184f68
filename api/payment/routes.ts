/** The member's payment method (`/v1/me`, behind requireAuth): the card the payment domain charges. */
import { Router } from 'express';
import { z } from 'zod';
import { getPaymentMethod, savePaymentMethod } from '../../store/payment/payment-methods';
import type { Db } from '../../db/client';
import { DEFAULT_CARD_TOKEN, PAYMENT_CARD_TOKENS } from '../../workflows/payment/contract';
import { principal } from '../auth/middleware';
import { ctx } from '../request-context';
import { parseBody } from '../validation';

/** A card as the API accepts it: a PSP token (here, one of the PSP's test cards). */
export const cardInputSchema = z.object({ token: z.enum(PAYMENT_CARD_TOKENS).default(DEFAULT_CARD_TOKEN) }).strict();

export const putPaymentMethodBody = z.object({ card: cardInputSchema }).strict();

export const paymentMethodSchema = z
  .object({ customerId: z.string(), card: z.object({ token: z.string() }).strict().nullable(), updatedAt: z.string().nullable() })
  .strict();
export const savedPaymentMethodSchema = z.object({ customerId: z.string(), card: z.object({ token: z.string() }).strict() }).strict();

export function paymentRoutes({ db }: { db: Db }): Router {
  const router = Router();

  router.get('/payment-method', async (_req, res) => {
    const { customerId } = principal(res);
    const method = await getPaymentMethod(db, customerId);
    res.json({ customerId, card: method ? { token: method.cardToken } : null, updatedAt: method?.updatedAt.toISOString() ?? null });
  });

  /** Replaces the card on file; the next charge attempt (including a dunning retry) uses it. */
  router.put('/payment-method', async (req, res) => {
    const { card } = parseBody(req, putPaymentMethodBody);
    const { customerId } = principal(res);
    await savePaymentMethod(db, customerId, card.token);
    ctx(res).log.info({ customerId }, 'payment method replaced');
    res.json({ customerId, card: { token: card.token } });
  });

  return router;
}
