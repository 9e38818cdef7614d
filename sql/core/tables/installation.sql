CREATE TABLE IF NOT EXISTS idsql.installation (
    singleton boolean PRIMARY KEY DEFAULT true CONSTRAINT installation_singleton_check CHECK (singleton),
    version text NOT NULL,
    channel text NOT NULL,
    installed_at timestamptz NOT NULL DEFAULT now(),
    upgraded_at timestamptz
);

COMMENT ON TABLE idsql.installation IS
'One row: the pyidsql version installed in this database and the channel that installed it.';
COMMENT ON COLUMN idsql.installation.singleton IS 'Always true: keeps the table to one row.';
COMMENT ON COLUMN idsql.installation.version IS 'Installed pyidsql version, e.g. 0.1.0.';
COMMENT ON COLUMN idsql.installation.channel IS 'How it was installed: cli, alembic, psql, extension or pg_tle.';
COMMENT ON COLUMN idsql.installation.installed_at IS 'When idsql was first installed.';
COMMENT ON COLUMN idsql.installation.upgraded_at IS 'When the install script last ran over an existing install.';
