-- $8: messages sent, [[id, sent_at]].
mark_sent AS (
    UPDATE outbox SET status = 'sent', sent_at = (s->>1)::int8, attempts = attempts + 1
    FROM jsonb_array_elements($8::jsonb) AS s WHERE outbox.id = (s->>0)::int8
),
