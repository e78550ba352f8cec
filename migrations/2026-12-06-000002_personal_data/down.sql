ALTER TABLE disputes DROP CONSTRAINT disputes_reason_check;
ALTER TABLE disputes ADD CONSTRAINT disputes_reason_check
    CHECK (char_length(reason) BETWEEN 10 AND 5000) NOT VALID;
ALTER TABLE orders DROP COLUMN personal_data_erased_at;
