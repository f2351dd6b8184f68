/** The values members choose from, shared by signup and order placement. */
import { z } from 'zod';
import { addressSchema } from '../workflows/orders/contract';

export const SIZES = ['XS', 'S', 'M', 'L', 'XL'] as const;
export const CATEGORIES = ['dress', 'top', 'trousers', 'skirt', 'jacket', 'knitwear'] as const;

export const sizeSchema = z.enum(SIZES);

/** A non-empty set of categories (duplicates are dropped, first occurrence kept). */
export const categoriesSchema = z
  .array(z.enum(CATEGORIES))
  .min(1)
  .max(CATEGORIES.length * 2)
  .transform((list) => [...new Set(list)]);

/** The orders domain's address, closed to unknown fields, with the country code upper-cased. */
export const addressInputSchema = addressSchema
  .extend({
    country: z
      .string()
      .regex(/^[A-Za-z]{2}$/, 'must be a two-letter ISO 3166-1 country code')
      .transform((c) => c.toUpperCase()),
  })
  .strict();
