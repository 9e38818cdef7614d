-- Tables enabled for state versions under an older idsql get the triggers this version generates.
DO $$
BEGIN
    PERFORM idsql._state_version_refresh();
END
$$;
