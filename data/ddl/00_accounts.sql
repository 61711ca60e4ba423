-- Merchant accounts (tenants). Not a Sigma table: Sigma shows only your own account; Ledgerlens
-- keeps several accounts in one warehouse, as Stripe Data Pipeline for Organizations does.
CREATE TABLE accounts (
    merchant_id VARCHAR NOT NULL,
    "id" VARCHAR,
    "business_profile_name" VARCHAR,
    "country" VARCHAR,
    "default_currency" VARCHAR,
    "settings_dashboard_timezone" VARCHAR,
    "created" TIMESTAMP
);
COMMENT ON TABLE accounts IS 'Merchant accounts sharing the warehouse; id = merchant_id.';
COMMENT ON COLUMN accounts.merchant_id IS 'Merchant account that owns this row (tenant column).';
COMMENT ON COLUMN accounts."id" IS 'Account identifier, acct_...; equal to merchant_id.';
COMMENT ON COLUMN accounts."business_profile_name" IS 'Public business name of the merchant.';
COMMENT ON COLUMN accounts."country" IS 'Country where the merchant is established, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN accounts."default_currency" IS 'Currency the merchant reports and is paid out in (lowercase ISO 4217).';
COMMENT ON COLUMN accounts."settings_dashboard_timezone" IS 'IANA time zone used for this merchant''s reports, e.g. America/New_York.';
COMMENT ON COLUMN accounts."created" IS 'When the account was created (UTC).';
