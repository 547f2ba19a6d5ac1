-- $6: unbinding requests, [[reference, merchant, chat_id, user_id, at]].
request_created AS (
    INSERT INTO unbind_requests (reference, merchant_id, chat_id, user_id, status, created_at, updated_at)
    SELECT j->>0, j->>1, (j->>2)::int8, (j->>3)::int8, 'submitted', (j->>4)::int8, (j->>4)::int8
    FROM jsonb_array_elements($6::jsonb) AS j
),
