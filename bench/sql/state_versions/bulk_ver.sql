UPDATE sv_ver SET n = n + 1;
