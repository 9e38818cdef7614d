UPDATE sv_typed SET n = n + 1;
