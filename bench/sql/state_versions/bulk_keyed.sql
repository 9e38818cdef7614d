UPDATE sv_keyed SET n = n + 1;
