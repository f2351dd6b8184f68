-- Express shipping fees (payment purpose shipping) are revenue of their own.
INSERT INTO "accounting"."accounts" ("code", "name", "kind") VALUES
  ('shipping_revenue', 'Shipping revenue', 'revenue')
ON CONFLICT ("code") DO NOTHING;
