-- Who has been welcomed (the consumer of the queue `welcome`): one row per student, so a message delivered
-- twice welcomes once. Deleting the student forgets the welcome.
CREATE TABLE student_welcomes (
    student_id  bigint      PRIMARY KEY REFERENCES students (student_id) ON DELETE CASCADE,
    message_id  uuid        NOT NULL,
    welcomed_at timestamptz NOT NULL DEFAULT now()
);
