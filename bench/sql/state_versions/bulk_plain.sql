UPDATE sv_plain SET n = n + 1;
