-- The same table under the periods extension's system versioning (Debian postgresql-15-periods).
CREATE EXTENSION IF NOT EXISTS periods CASCADE;
CREATE TABLE sv_periods (LIKE sv_plain INCLUDING ALL);
INSERT INTO sv_periods SELECT * FROM sv_plain;
SELECT periods.add_system_time_period('sv_periods');
SELECT periods.add_system_versioning('sv_periods');
