CREATE TABLE "redeemed_ws_ticket" (
	"token_hash" text PRIMARY KEY NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
DROP TABLE "ws_ticket" CASCADE;--> statement-breakpoint
CREATE INDEX "redeemed_ws_ticket_expires_at_index" ON "redeemed_ws_ticket" USING btree ("expires_at");