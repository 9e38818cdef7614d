UPDATE sv_periods SET n = n + 1;
