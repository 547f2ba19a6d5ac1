-- $1: codes whose delivery outcome is being recorded, [[merchant, issued_at]]:
-- removes their pending rows and answers those that were still there.
DELETE FROM otp_pending
WHERE (merchant_id, issued_at) IN (SELECT value ->> 0, value ->> 1 FROM jsonb_each($1))
RETURNING merchant_id, issued_at;
