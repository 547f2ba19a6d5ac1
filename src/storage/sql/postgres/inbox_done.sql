-- $12: applied updates off the inbox, [update_id].
inbox_done AS (
    DELETE FROM inbox WHERE update_id = ANY (ARRAY(SELECT (j #>> '{}')::int8 FROM jsonb_array_elements($12::jsonb) AS j))
),
