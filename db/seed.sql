-- Demo rows; fixed UUIDs make the seed idempotent (applied again, it adds nothing).
INSERT INTO students (student_uuid, first_name, last_name, status, program_id, active) VALUES
    ('6f1c1a8e-4a7b-4c59-9a57-2f0d5a3c1001', 'Ada',    'Lovelace', 'enrolled',  '0b7e3f4c-7a1d-4a43-8d6e-5c2f9a100001', true),
    ('6f1c1a8e-4a7b-4c59-9a57-2f0d5a3c1002', 'Alan',   'Turing',   'graduated', '0b7e3f4c-7a1d-4a43-8d6e-5c2f9a100001', true),
    ('6f1c1a8e-4a7b-4c59-9a57-2f0d5a3c1003', 'Grace',  'Hopper',   'enrolled',  '0b7e3f4c-7a1d-4a43-8d6e-5c2f9a100002', true),
    ('6f1c1a8e-4a7b-4c59-9a57-2f0d5a3c1004', 'Edsger', 'Dijkstra', 'suspended', NULL,                                   false),
    ('6f1c1a8e-4a7b-4c59-9a57-2f0d5a3c1005', 'Barbara','Liskov',   'enrolled',  '0b7e3f4c-7a1d-4a43-8d6e-5c2f9a100002', true)
ON CONFLICT (student_uuid) DO NOTHING;
