-- $11: the audit trail, [[at, actor, action, merchant, chat_id, detail]].
audit AS (
    INSERT INTO audit (at, actor, action, merchant_id, chat_id, detail)
    SELECT (j->>0)::int8, j->>1, j->>2, j->>3, (j->>4)::int8, j->>5 FROM jsonb_array_elements($11::jsonb) AS j
),
