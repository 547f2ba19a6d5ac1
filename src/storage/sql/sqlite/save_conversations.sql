-- $9: conversations, the last of each chat, [[chat_id, user_id, lang, state, updated_at]].
INSERT INTO conversations (chat_id, user_id, lang, state, updated_at)
SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM jsonb_each($9) WHERE true
ON CONFLICT (chat_id) DO UPDATE SET user_id = excluded.user_id, lang = excluded.lang,
    state = excluded.state, updated_at = excluded.updated_at;
