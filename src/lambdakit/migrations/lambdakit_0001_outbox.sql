-- The machinery's own table: messages of committed work on their way to their queues (lambdakit/outbox.py).
-- Named lambdakit_*, like this file, so neither meets a table or a migration of the project's.
CREATE TABLE lambdakit_outbox (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id    uuid        NOT NULL UNIQUE,
    queue         text        NOT NULL,
    body          text        NOT NULL,
    delay_seconds integer     NOT NULL DEFAULT 0 CHECK (delay_seconds BETWEEN 0 AND 900),
    created_at    timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz,
    attempts      integer     NOT NULL DEFAULT 0,
    last_error    text
);
-- What the relay reads (the unsent, oldest first) and what a purge reads (the sent, by age): both stay small.
CREATE INDEX lambdakit_outbox_unsent ON lambdakit_outbox (id) WHERE sent_at IS NULL;
CREATE INDEX lambdakit_outbox_sent ON lambdakit_outbox (sent_at) WHERE sent_at IS NOT NULL;
