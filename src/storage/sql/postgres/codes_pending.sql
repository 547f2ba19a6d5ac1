-- $13: codes on their way to the gateway, [[merchant, issued_at, chat_id, user_id, owner, deadline]].
codes_pending AS (
    INSERT INTO otp_pending (merchant_id, issued_at, chat_id, user_id, owner, deadline)
    SELECT j->>0, (j->>1)::int8, (j->>2)::int8, (j->>3)::int8, j->>4, (j->>5)::int8
    FROM jsonb_array_elements($13::jsonb) AS j
    ON CONFLICT (merchant_id, issued_at) DO NOTHING
),
