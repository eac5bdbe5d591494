-- The fixture app's rows: ids 1 to 5 in the order written, in a fresh table. Idempotent like db/seed.sql.
INSERT INTO fixture_widgets (widget_uuid, name, maker, status, batch_id, stock, price, active)
SELECT v.widget_uuid::uuid, v.name, v.maker, v.status, v.batch_id::uuid, v.stock, v.price, v.active
FROM (VALUES
    ('5e1d0c2a-1b3c-4d5e-8f60-7a8b9c0d0001', 'Sprocket', 'Acme',    'listed',  'a0b1c2d3-e4f5-4a6b-8c7d-000000000001', 12, 4.50,  true),
    ('5e1d0c2a-1b3c-4d5e-8f60-7a8b9c0d0002', 'Gear',     'Acme',    'sold',    'a0b1c2d3-e4f5-4a6b-8c7d-000000000001', 0,  12.00, true),
    ('5e1d0c2a-1b3c-4d5e-8f60-7a8b9c0d0003', 'Flange',   'Globex',  'listed',  'a0b1c2d3-e4f5-4a6b-8c7d-000000000002', 3,  7.25,  true),
    ('5e1d0c2a-1b3c-4d5e-8f60-7a8b9c0d0004', 'Bracket',  'Initech', 'retired', NULL,                                   0,  NULL,  false),
    ('5e1d0c2a-1b3c-4d5e-8f60-7a8b9c0d0005', 'Washer',   'Globex',  'draft',   'a0b1c2d3-e4f5-4a6b-8c7d-000000000002', 90, 0.10,  true)
) AS v(widget_uuid, name, maker, status, batch_id, stock, price, active)
WHERE NOT EXISTS (SELECT 1 FROM fixture_widgets w WHERE w.widget_uuid = v.widget_uuid::uuid)
ORDER BY v.widget_uuid;
