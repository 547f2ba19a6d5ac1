-- $7: updates stored, [[update_id, chat_id, payload, received_at]].
store_updates AS (
    INSERT INTO inbox (update_id, chat_id, payload, received_at)
    SELECT (j->>0)::int8, (j->>1)::int8, j->>2, (j->>3)::int8 FROM jsonb_array_elements($7::jsonb) AS j
    ON CONFLICT (update_id) DO NOTHING
),
