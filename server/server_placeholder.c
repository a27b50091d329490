int pl__server_placeholder(void); int pl__server_placeholder(void) { return 0; }
