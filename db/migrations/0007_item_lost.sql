-- A lost item: the member kept it, its purchase failed for good, and it never came back, so
-- inventory writes it off without it ever being returned (shipped → retired, reason "lost").
-- Everything else of 0004_item_transitions stands; retired stays final.
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
    ('shipped', 'retired'),
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
