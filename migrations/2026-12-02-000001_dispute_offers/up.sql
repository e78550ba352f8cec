-- A dispute's settlement offers, oldest first, kept with the dispute they settle: they are
-- read and written with it, under its lock. A constant default adds the column without
-- rewriting the table; the check is NOT VALID, so it holds for every write from now on
-- without scanning the rows already there (all of which hold the default).
ALTER TABLE disputes ADD COLUMN offers JSONB NOT NULL DEFAULT '[]';
ALTER TABLE disputes ADD CONSTRAINT disputes_offers_are_a_list
    CHECK (jsonb_typeof(offers) = 'array') NOT VALID;
