CREATE SCHEMA "auth";
--> statement-breakpoint
CREATE SCHEMA "events";
--> statement-breakpoint
CREATE SCHEMA "inventory";
--> statement-breakpoint
CREATE SCHEMA "orders";
--> statement-breakpoint
CREATE SCHEMA "styling";
--> statement-breakpoint
CREATE SCHEMA "warehouse";
--> statement-breakpoint
CREATE SCHEMA "wms";
--> statement-breakpoint
CREATE TABLE "auth"."customers" (
	"id" text PRIMARY KEY NOT NULL,
	"email" text NOT NULL,
	"password_hash" text NOT NULL,
	"name" text NOT NULL,
	"role" text DEFAULT 'customer' NOT NULL,
	"size" text NOT NULL,
	"preferred_categories" jsonb NOT NULL,
	"address" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customers_email_unique" UNIQUE("email")
);
--> statement-breakpoint
CREATE TABLE "events"."deliveries" (
	"event_id" text NOT NULL,
	"subscriber" text NOT NULL,
	"workflow_id" text NOT NULL,
	"outcome" text NOT NULL,
	"detail" text,
	"delivered_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "deliveries_event_id_subscriber_pk" PRIMARY KEY("event_id","subscriber")
);
--> statement-breakpoint
CREATE TABLE "events"."event_log" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"id" text NOT NULL,
	"type" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"correlation_id" text NOT NULL,
	"causation_id" text,
	"source_domain" text NOT NULL,
	"source_workflow_id" text NOT NULL,
	"source_run_id" text NOT NULL,
	"data" jsonb NOT NULL,
	"subscribers" jsonb NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "event_log_id_unique" UNIQUE("id")
);
--> statement-breakpoint
CREATE TABLE "inventory"."items" (
	"id" text PRIMARY KEY NOT NULL,
	"sku" text NOT NULL,
	"category" text NOT NULL,
	"size" text NOT NULL,
	"colour" text NOT NULL,
	"purchase_price_cents" integer NOT NULL,
	"state" text DEFAULT 'available' NOT NULL,
	"order_id" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "items_state_valid" CHECK ("inventory"."items"."state" in ('available','reserved','shipped','returned','cleaning','sold','retired')),
	CONSTRAINT "items_holder_matches_state" CHECK (("inventory"."items"."state" in ('reserved','shipped') and "inventory"."items"."order_id" is not null) or ("inventory"."items"."state" = 'available' and "inventory"."items"."order_id" is null) or "inventory"."items"."state" not in ('available','reserved','shipped'))
);
--> statement-breakpoint
CREATE TABLE "orders"."orders" (
	"id" text PRIMARY KEY NOT NULL,
	"customer_id" text NOT NULL,
	"status" text NOT NULL,
	"status_reason" text,
	"size" text NOT NULL,
	"categories" jsonb NOT NULL,
	"item_count" integer NOT NULL,
	"address" jsonb NOT NULL,
	"item_ids" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"tracking_number" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "styling"."picks" (
	"order_id" text NOT NULL,
	"attempt" integer NOT NULL,
	"item_ids" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "picks_order_id_attempt_pk" PRIMARY KEY("order_id","attempt")
);
--> statement-breakpoint
CREATE TABLE "warehouse"."shipments" (
	"order_id" text PRIMARY KEY NOT NULL,
	"customer_id" text NOT NULL,
	"instruction_id" text,
	"status" text NOT NULL,
	"tracking_number" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "wms"."instructions" (
	"order_id" text PRIMARY KEY NOT NULL,
	"idempotency_key" text NOT NULL,
	"instruction_id" text,
	"status" text NOT NULL,
	"detail" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "event_log_correlation_idx" ON "events"."event_log" USING btree ("correlation_id","seq");--> statement-breakpoint
CREATE INDEX "items_pick_idx" ON "inventory"."items" USING btree ("state","size","category");--> statement-breakpoint
CREATE INDEX "items_order_idx" ON "inventory"."items" USING btree ("order_id");--> statement-breakpoint
CREATE INDEX "orders_customer_idx" ON "orders"."orders" USING btree ("customer_id","created_at");