-- $14: queued messages, [[chat_id, ticket_id, payload, priority, at]]; the
-- statement answers their ids.
enqueue AS (
    INSERT INTO outbox (chat_id, ticket_id, payload, priority, status, attempts, next_attempt_at, created_at)
    SELECT (j->>0)::int8, (j->>1)::int8, j->>2, (j->>3)::int8, 'pending', 0, (j->>4)::int8, (j->>4)::int8
    FROM jsonb_array_elements($14::jsonb) AS j
    RETURNING id
)
SELECT COALESCE((SELECT jsonb_agg(id) FROM enqueue), '[]'::jsonb)::text AS queued_ids;
