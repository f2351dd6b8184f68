-- Chart of accounts.
INSERT INTO "accounting"."accounts" ("code", "name", "kind") VALUES
  ('cash', 'Cash', 'asset'),
  ('membership_revenue', 'Membership revenue', 'revenue'),
  ('sales_revenue', 'Sales revenue', 'revenue'),
  ('inventory', 'Inventory', 'asset'),
  ('cost_of_goods_sold', 'Cost of goods sold', 'expense'),
  ('refunds', 'Refunds', 'contra-revenue')
ON CONFLICT ("code") DO NOTHING;
--> statement-breakpoint
-- Debits = credits per journal entry, checked at COMMIT (deferred), so an entry's lines can be
-- inserted one by one inside the transaction but an unbalanced entry can never be committed.
CREATE OR REPLACE FUNCTION "accounting"."check_entry_balanced"() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v_entry text;
  v_lines integer;
  v_debit numeric;
  v_credit numeric;
BEGIN
  IF TG_TABLE_NAME = 'journal_entries' THEN
    v_entry := NEW.id;
  ELSIF TG_OP = 'DELETE' THEN
    v_entry := OLD.entry_id;
  ELSE
    v_entry := NEW.entry_id;
  END IF;
  -- The entry itself may have been deleted in the same transaction: nothing left to balance.
  IF NOT EXISTS (SELECT 1 FROM "accounting"."journal_entries" WHERE id = v_entry) THEN
    RETURN NULL;
  END IF;
  SELECT count(*), coalesce(sum(debit_cents), 0), coalesce(sum(credit_cents), 0)
    INTO v_lines, v_debit, v_credit
    FROM "accounting"."journal_lines" WHERE entry_id = v_entry;
  IF v_lines < 2 OR v_debit <> v_credit THEN
    RAISE EXCEPTION 'journal entry % is unbalanced: % line(s), debits % <> credits %', v_entry, v_lines, v_debit, v_credit
      USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_entry_balanced';
  END IF;
  -- Also check the old entry when a line moves to another entry (nested IFs: plpgsql resolves
  -- every field named in one expression, and OLD of a journal_entries row has no entry_id).
  IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'journal_lines' THEN
    IF OLD.entry_id <> NEW.entry_id THEN
      SELECT coalesce(sum(debit_cents), 0), coalesce(sum(credit_cents), 0) INTO v_debit, v_credit
        FROM "accounting"."journal_lines" WHERE entry_id = OLD.entry_id;
      IF v_debit <> v_credit THEN
        RAISE EXCEPTION 'journal entry % is unbalanced: debits % <> credits %', OLD.entry_id, v_debit, v_credit
          USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_entry_balanced';
      END IF;
    END IF;
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "journal_lines_balanced"
  AFTER INSERT OR UPDATE OR DELETE ON "accounting"."journal_lines"
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION "accounting"."check_entry_balanced"();
--> statement-breakpoint
-- An entry with no lines at all is refused too (the lines trigger never fires for it).
CREATE CONSTRAINT TRIGGER "journal_entries_have_lines"
  AFTER INSERT ON "accounting"."journal_entries"
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION "accounting"."check_entry_balanced"();
--> statement-breakpoint
-- No posting (new entry, new line, change or removal) in a locked period. The period row is read
-- FOR SHARE, so a concurrent lock waits for this posting to commit, and a posting that waits for
-- a lock to commit sees the period locked.
CREATE OR REPLACE FUNCTION "accounting"."refuse_locked_period"() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v_period text;
  v_status text;
BEGIN
  -- Nested IFs only: plpgsql resolves every field named in one expression.
  IF TG_TABLE_NAME = 'journal_entries' THEN
    IF TG_OP = 'DELETE' THEN v_period := OLD.period; ELSE v_period := NEW.period; END IF;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT period INTO v_period FROM "accounting"."journal_entries" WHERE id = OLD.entry_id;
  ELSE
    SELECT period INTO v_period FROM "accounting"."journal_entries" WHERE id = NEW.entry_id;
  END IF;
  SELECT status INTO v_status FROM "accounting"."periods" WHERE period = v_period FOR SHARE;
  IF v_status = 'locked' THEN
    RAISE EXCEPTION 'period % is locked', v_period USING ERRCODE = 'CF001';
  END IF;
  IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'journal_entries' THEN
    IF OLD.period <> NEW.period THEN
      SELECT status INTO v_status FROM "accounting"."periods" WHERE period = OLD.period FOR SHARE;
      IF v_status = 'locked' THEN
        RAISE EXCEPTION 'period % is locked', OLD.period USING ERRCODE = 'CF001';
      END IF;
    END IF;
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "journal_entries_period_open"
  BEFORE INSERT OR UPDATE OR DELETE ON "accounting"."journal_entries"
  FOR EACH ROW EXECUTE FUNCTION "accounting"."refuse_locked_period"();
--> statement-breakpoint
CREATE TRIGGER "journal_lines_period_open"
  BEFORE INSERT OR UPDATE OR DELETE ON "accounting"."journal_lines"
  FOR EACH ROW EXECUTE FUNCTION "accounting"."refuse_locked_period"();
