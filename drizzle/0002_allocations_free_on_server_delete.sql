ALTER TABLE "allocations" DROP CONSTRAINT "allocations_server_id_servers_id_fk";
--> statement-breakpoint
ALTER TABLE "allocations" ADD CONSTRAINT "allocations_server_id_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "public"."servers"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "servers_name_id_index" ON "servers" USING btree ("name","id");