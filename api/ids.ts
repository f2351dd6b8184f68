/** Public ids: a type prefix and 16 random base36 characters (~82 bits), e.g. `c_k3x9...`, `o_...`. */
import { randomInt } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

export function newId(prefix: 'c' | 'o', length = 16): string {
  let id = `${prefix}_`;
  for (let i = 0; i < length; i++) id += ALPHABET[randomInt(ALPHABET.length)];
  return id;
}

/** Shape of ids the API hands out; anything else in a path can be answered 404 without a query. */
export const ORDER_ID = /^o_[0-9a-z]{1,64}$/;
