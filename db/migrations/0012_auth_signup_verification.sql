CREATE TABLE "auth"."mail_outbox" (
	"id" text PRIMARY KEY NOT NULL,
	"recipient" text NOT NULL,
	"template" text NOT NULL,
	"subject" text NOT NULL,
	"body" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"sent_at" timestamp with time zone,
	"provider_message_id" text,
	"failed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "auth"."signup_requests" (
	"id" text PRIMARY KEY NOT NULL,
	"token_hash" text NOT NULL,
	"email" text NOT NULL,
	"password_hash" text NOT NULL,
	"name" text NOT NULL,
	"size" text NOT NULL,
	"preferred_categories" jsonb NOT NULL,
	"address" jsonb NOT NULL,
	"card_token" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"consumed_at" timestamp with time zone,
	CONSTRAINT "signup_requests_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE INDEX "mail_outbox_pending_idx" ON "auth"."mail_outbox" USING btree ("next_attempt_at") WHERE "auth"."mail_outbox"."sent_at" is null and "auth"."mail_outbox"."failed_at" is null;--> statement-breakpoint
CREATE INDEX "signup_requests_expires_idx" ON "auth"."signup_requests" USING btree ("expires_at");