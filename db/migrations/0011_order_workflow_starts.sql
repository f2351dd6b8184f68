CREATE TABLE "orders"."workflow_starts" (
	"order_id" text PRIMARY KEY NOT NULL,
	"input" jsonb NOT NULL,
	"trace_context" jsonb,
	"accepted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"claimed_until" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"started_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "orders"."workflow_starts" ADD CONSTRAINT "workflow_starts_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "orders"."orders"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "workflow_starts_pending_idx" ON "orders"."workflow_starts" USING btree ("accepted_at") WHERE "orders"."workflow_starts"."started_at" is null;