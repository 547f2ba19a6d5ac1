-- $11: the audit trail, [[at, actor, action, merchant, chat_id, detail]].
INSERT INTO audit (at, actor, action, merchant_id, chat_id, detail)
SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5 FROM jsonb_each($11);
