-- $12: applied updates off the inbox, [update_id].
inbox_done AS (
    DELETE FROM inbox WHERE update_id IN (SELECT (j #>> '{}')::int8 FROM jsonb_array_elements($12::jsonb) AS j)
),
