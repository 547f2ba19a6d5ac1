-- $1: codes whose delivery outcome is being recorded, [[merchant, issued_at]]:
-- removes their pending rows and answers those that were still there.
DELETE FROM otp_pending
WHERE merchant_id = ANY (ARRAY(SELECT j->>0 FROM jsonb_array_elements($1::jsonb) AS j))
    AND (merchant_id, issued_at) IN (SELECT j->>0, (j->>1)::int8 FROM jsonb_array_elements($1::jsonb) AS j)
RETURNING merchant_id, issued_at
