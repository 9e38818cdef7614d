UPDATE sv_hist SET n = n + 1;
