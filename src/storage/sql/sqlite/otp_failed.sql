-- $3: wrong codes, [[merchant]].
UPDATE otp_state SET failures = failures + 1
WHERE merchant_id IN (SELECT value ->> 0 FROM jsonb_each($3));
