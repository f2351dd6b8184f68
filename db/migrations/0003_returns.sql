CREATE SCHEMA "returns";
--> statement-breakpoint
CREATE TABLE "returns"."inspections" (
	"order_id" text NOT NULL,
	"item_id" text NOT NULL,
	"outcome" text NOT NULL,
	"inspected_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inspections_order_id_item_id_pk" PRIMARY KEY("order_id","item_id")
);
--> statement-breakpoint
CREATE TABLE "returns"."reminders" (
	"order_id" text NOT NULL,
	"offset" text NOT NULL,
	"customer_id" text NOT NULL,
	"deadline" timestamp with time zone NOT NULL,
	"sent_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reminders_order_id_offset_pk" PRIMARY KEY("order_id","offset")
);
--> statement-breakpoint
ALTER TABLE "inventory"."items" ADD COLUMN "cost_cents" integer;--> statement-breakpoint
ALTER TABLE "orders"."orders" ADD COLUMN "purchased_item_ids" jsonb DEFAULT '[]'::jsonb NOT NULL;