ALTER TABLE disputes DROP COLUMN offers;
