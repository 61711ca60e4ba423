-- Convenience view: Sigma has no payouts table; payouts are transfers of type bank_account or card.
CREATE VIEW payouts AS
SELECT * FROM transfers WHERE "type" IN ('bank_account', 'card');
COMMENT ON VIEW payouts IS 'Payouts to the merchant bank or card: transfers of type bank_account or card.';
