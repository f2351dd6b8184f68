CREATE SCHEMA "payment";
--> statement-breakpoint
CREATE TABLE "orders"."memberships" (
	"customer_id" text PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"current_period" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payment"."charge_attempts" (
	"charge_key" text NOT NULL,
	"attempt" integer NOT NULL,
	"idempotency_key" text NOT NULL,
	"card_token" text,
	"status" text NOT NULL,
	"decline_code" text,
	"psp_charge_id" text,
	"attempted_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "charge_attempts_charge_key_attempt_pk" PRIMARY KEY("charge_key","attempt"),
	CONSTRAINT "charge_attempts_idempotency_key_unique" UNIQUE("idempotency_key")
);
--> statement-breakpoint
CREATE TABLE "payment"."charges" (
	"charge_key" text PRIMARY KEY NOT NULL,
	"customer_id" text NOT NULL,
	"purpose" text NOT NULL,
	"amount_cents" integer NOT NULL,
	"currency" text DEFAULT 'EUR' NOT NULL,
	"status" text NOT NULL,
	"psp_charge_id" text,
	"order_id" text,
	"item_id" text,
	"period" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "charges_amount_positive" CHECK ("payment"."charges"."amount_cents" > 0),
	CONSTRAINT "charges_captured_has_psp_id" CHECK ("payment"."charges"."status" not in ('captured', 'refunded') or "payment"."charges"."psp_charge_id" is not null)
);
--> statement-breakpoint
CREATE TABLE "payment"."payment_methods" (
	"customer_id" text PRIMARY KEY NOT NULL,
	"card_token" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payment"."refunds" (
	"charge_key" text PRIMARY KEY NOT NULL,
	"idempotency_key" text NOT NULL,
	"amount_cents" integer NOT NULL,
	"psp_refund_id" text NOT NULL,
	"reason" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "refunds_idempotency_key_unique" UNIQUE("idempotency_key")
);
--> statement-breakpoint
ALTER TABLE "payment"."charge_attempts" ADD CONSTRAINT "charge_attempts_charge_key_charges_charge_key_fk" FOREIGN KEY ("charge_key") REFERENCES "payment"."charges"("charge_key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment"."refunds" ADD CONSTRAINT "refunds_charge_key_charges_charge_key_fk" FOREIGN KEY ("charge_key") REFERENCES "payment"."charges"("charge_key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "charge_attempts_one_capture_per_key" ON "payment"."charge_attempts" USING btree ("charge_key") WHERE "payment"."charge_attempts"."status" = 'captured';--> statement-breakpoint
CREATE INDEX "charges_customer_idx" ON "payment"."charges" USING btree ("customer_id");