-- $5: codes used, [[merchant]].
UPDATE otp_state SET failures = 0, code_hash = NULL, expires_at = NULL
WHERE merchant_id IN (SELECT value ->> 0 FROM jsonb_each($5));
