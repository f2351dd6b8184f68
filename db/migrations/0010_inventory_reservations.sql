CREATE TABLE "inventory"."reservations" (
	"order_id" text NOT NULL,
	"attempt" integer NOT NULL,
	"outcome" text NOT NULL,
	"item_ids" text[] NOT NULL,
	"unavailable_item_ids" text[] DEFAULT '{}'::text[] NOT NULL,
	"released_item_ids" text[],
	"shipped_item_ids" text[],
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reservations_order_id_attempt_pk" PRIMARY KEY("order_id","attempt"),
	CONSTRAINT "reservations_outcome_valid" CHECK ("inventory"."reservations"."outcome" in ('reserved','shortage'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "reservations_one_hold_per_order" ON "inventory"."reservations" USING btree ("order_id") WHERE "inventory"."reservations"."outcome" = 'reserved';