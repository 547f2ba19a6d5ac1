-- $10: turn records, [[chat_id, update_id, event, intent, input, state_before, state_after, at]].
record_turns AS (
    INSERT INTO turns (chat_id, update_id, event, intent, input, state_before, state_after, at)
    SELECT (j->>0)::int8, (j->>1)::int8, j->>2, j->>3, j->>4, j->>5, j->>6, (j->>7)::int8
    FROM jsonb_array_elements($10::jsonb) AS j
),
