-- $9: conversations, the last of each chat, [[chat_id, user_id, lang, state, updated_at]].
save_conversations AS (
    INSERT INTO conversations (chat_id, user_id, lang, state, updated_at)
    SELECT (j->>0)::int8, (j->>1)::int8, j->>2, j->>3, (j->>4)::int8 FROM jsonb_array_elements($9::jsonb) AS j
    ON CONFLICT (chat_id) DO UPDATE SET user_id = excluded.user_id, lang = excluded.lang,
        state = excluded.state, updated_at = excluded.updated_at
),
