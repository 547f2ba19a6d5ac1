-- The staff desk: each ticket's context card (edited in place), the ticket
-- a new one follows, and rejections waiting for their reason.
ALTER TABLE tickets ADD COLUMN card_message_id BIGINT;
ALTER TABLE tickets ADD COLUMN previous_ticket_id BIGINT;
CREATE INDEX tickets_chat ON tickets (chat_id, id);

CREATE TABLE staff_prompts (
    agent_id  BIGINT PRIMARY KEY,
    reference TEXT NOT NULL,
    ticket_id BIGINT,
    until     BIGINT NOT NULL
);

-- Which merchant message each staff reply became (a staff edit follows).
CREATE TABLE staff_relays (
    staff_message_id BIGINT PRIMARY KEY,
    chat_id          BIGINT NOT NULL,
    message_id       BIGINT NOT NULL
);

-- The post of each request in the staff group's requests topic (edited on
-- every status change).
ALTER TABLE unbind_requests ADD COLUMN post_message_id BIGINT;
