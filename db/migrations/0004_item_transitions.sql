-- The item state machine, enforced by the database: whatever code (or person) updates
-- inventory.items, a state change outside this list is refused.
--
--   available → reserved      styling's pick is reserved for an order
--   reserved  → available     the reservation is released (cancel)
--   reserved  → shipped       the box left the warehouse
--   shipped   → returned      the box came back
--   shipped   → sold          the member bought an item they have at home
--   returned  → cleaning      inspection found it clean
--   returned  → retired       inspection found it damaged
--   cleaning  → available     cleaned and back in stock
--
-- returned → sold is NOT allowed: once an item is back in the warehouse the member no longer has
-- it, so it can no longer be bought from that box. sold and retired are final.
-- Unchanged states (e.g. a repeated reservation by the same order) always pass.
CREATE OR REPLACE FUNCTION inventory.check_item_transition() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  -- Not a state at all: left to the items_state_valid check, which names the real problem.
  IF NEW.state NOT IN ('available', 'reserved', 'shipped', 'returned', 'cleaning', 'sold', 'retired') THEN
    RETURN NEW;
  END IF;
  IF (OLD.state, NEW.state) IN (
    ('available', 'reserved'),
    ('reserved', 'available'),
    ('reserved', 'shipped'),
    ('shipped', 'returned'),
    ('shipped', 'sold'),
    ('returned', 'cleaning'),
    ('returned', 'retired'),
    ('cleaning', 'available')
  ) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'illegal item transition % -> % for item %', OLD.state, NEW.state, OLD.id
    USING ERRCODE = 'check_violation', CONSTRAINT = 'items_state_transition';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER items_state_transition
  BEFORE UPDATE OF state ON inventory.items
  FOR EACH ROW
  WHEN (OLD.state IS DISTINCT FROM NEW.state)
  EXECUTE FUNCTION inventory.check_item_transition();
