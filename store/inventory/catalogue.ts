/** The stock catalogue seeded into an empty database, so a fresh `npm start` has clothes to rent. */
import type { Database } from '../../db/client';

export const CATEGORIES = ['dress', 'top', 'trousers', 'skirt', 'jacket', 'knitwear'] as const;
export const SIZES = ['XS', 'S', 'M', 'L', 'XL'] as const;
export const COLOURS = ['black', 'white', 'navy', 'red', 'green', 'camel'] as const;

/** Inserts `perCombination` items for every category × size × colour when the table is empty. */
export async function seedCatalogueIfEmpty({ sql }: Pick<Database, 'sql'>, perCombination = 2): Promise<number> {
  const [{ count }] = await sql<{ count: number }[]>`select count(*)::int as count from inventory.items`;
  if (count > 0) return 0;
  const rows: Record<string, unknown>[] = [];
  CATEGORIES.forEach((category, ci) =>
    SIZES.forEach((size) =>
      COLOURS.forEach((colour) => {
        for (let n = 1; n <= perCombination; n++) {
          const sku = `${category}-${colour}-${size}`.toUpperCase();
          rows.push({
            id: `itm_${sku.toLowerCase()}-${n}`,
            sku,
            category,
            size,
            colour,
            purchase_price_cents: 2900 + ci * 1000 + n * 100,
          });
        }
      }),
    ),
  );
  await sql`insert into inventory.items ${sql(rows, 'id', 'sku', 'category', 'size', 'colour', 'purchase_price_cents')} on conflict do nothing`;
  return rows.length;
}
