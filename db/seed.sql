-- Demo rows for the sample. Idempotent: applied again it adds nothing and, because rows that already
-- exist are filtered out before the INSERT, it draws no new ids from the identity sequence either
-- (ON CONFLICT DO NOTHING would draw one per row on every `make serve`).
INSERT INTO students (student_uuid, first_name, last_name, status, program_id, active)
SELECT v.student_uuid::uuid, v.first_name, v.last_name, v.status, v.program_id::uuid, v.active
FROM (VALUES
    ('6f1c1a8e-4a7b-4c59-9a57-2f0d5a3c1001', 'Ada',    'Lovelace', 'enrolled',  '0b7e3f4c-7a1d-4a43-8d6e-5c2f9a100001', true),
    ('6f1c1a8e-4a7b-4c59-9a57-2f0d5a3c1002', 'Alan',   'Turing',   'graduated', '0b7e3f4c-7a1d-4a43-8d6e-5c2f9a100001', true),
    ('6f1c1a8e-4a7b-4c59-9a57-2f0d5a3c1003', 'Grace',  'Hopper',   'enrolled',  '0b7e3f4c-7a1d-4a43-8d6e-5c2f9a100002', true),
    ('6f1c1a8e-4a7b-4c59-9a57-2f0d5a3c1004', 'Edsger', 'Dijkstra', 'suspended', NULL,                                   false),
    ('6f1c1a8e-4a7b-4c59-9a57-2f0d5a3c1005', 'Barbara','Liskov',   'enrolled',  '0b7e3f4c-7a1d-4a43-8d6e-5c2f9a100002', true)
) AS v(student_uuid, first_name, last_name, status, program_id, active)
WHERE NOT EXISTS (SELECT 1 FROM students s WHERE s.student_uuid = v.student_uuid::uuid)
-- Ids follow this order (Ada is 1): without ORDER BY the anti-join may hand the rows over in any order.
ORDER BY v.student_uuid;
