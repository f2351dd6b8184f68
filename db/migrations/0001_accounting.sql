CREATE SCHEMA "accounting";
--> statement-breakpoint
CREATE TABLE "accounting"."accounts" (
	"code" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	CONSTRAINT "accounts_kind_check" CHECK ("accounting"."accounts"."kind" in ('asset', 'revenue', 'expense', 'contra-revenue'))
);
--> statement-breakpoint
CREATE TABLE "accounting"."journal_entries" (
	"id" text PRIMARY KEY NOT NULL,
	"customer_id" text NOT NULL,
	"period" text NOT NULL,
	"source_event_id" text NOT NULL,
	"source_event_type" text NOT NULL,
	"charge_key" text,
	"description" text NOT NULL,
	"customer_seq" integer NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"posted_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "journal_entries_period_format" CHECK ("accounting"."journal_entries"."period" ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
	CONSTRAINT "journal_entries_customer_seq_positive" CHECK ("accounting"."journal_entries"."customer_seq" > 0)
);
--> statement-breakpoint
CREATE TABLE "accounting"."journal_lines" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"entry_id" text NOT NULL,
	"account" text NOT NULL,
	"debit_cents" bigint DEFAULT 0 NOT NULL,
	"credit_cents" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "journal_lines_non_negative" CHECK ("accounting"."journal_lines"."debit_cents" >= 0 and "accounting"."journal_lines"."credit_cents" >= 0),
	CONSTRAINT "journal_lines_one_side" CHECK (("accounting"."journal_lines"."debit_cents" = 0) <> ("accounting"."journal_lines"."credit_cents" = 0))
);
--> statement-breakpoint
CREATE TABLE "accounting"."periods" (
	"period" text PRIMARY KEY NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"locked_at" timestamp with time zone,
	"trial_balance" jsonb,
	"summary" jsonb,
	CONSTRAINT "periods_period_format" CHECK ("accounting"."periods"."period" ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
	CONSTRAINT "periods_status_check" CHECK ("accounting"."periods"."status" in ('open', 'locked'))
);
--> statement-breakpoint
ALTER TABLE "accounting"."journal_entries" ADD CONSTRAINT "journal_entries_period_periods_period_fk" FOREIGN KEY ("period") REFERENCES "accounting"."periods"("period") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "accounting"."journal_lines" ADD CONSTRAINT "journal_lines_entry_id_journal_entries_id_fk" FOREIGN KEY ("entry_id") REFERENCES "accounting"."journal_entries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "accounting"."journal_lines" ADD CONSTRAINT "journal_lines_account_accounts_code_fk" FOREIGN KEY ("account") REFERENCES "accounting"."accounts"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "journal_entries_source_event_uq" ON "accounting"."journal_entries" USING btree ("source_event_id");--> statement-breakpoint
CREATE UNIQUE INDEX "journal_entries_customer_seq_uq" ON "accounting"."journal_entries" USING btree ("customer_id","customer_seq");--> statement-breakpoint
CREATE INDEX "journal_entries_period_idx" ON "accounting"."journal_entries" USING btree ("period","customer_id");--> statement-breakpoint
CREATE INDEX "journal_entries_charge_idx" ON "accounting"."journal_entries" USING btree ("charge_key");--> statement-breakpoint
CREATE INDEX "journal_lines_entry_idx" ON "accounting"."journal_lines" USING btree ("entry_id");