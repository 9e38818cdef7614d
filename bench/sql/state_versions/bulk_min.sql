UPDATE sv_min SET n = n + 1;
