UPDATE sv_floor SET n = n + 1;
