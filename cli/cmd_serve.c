#include "cli/cli.h"
int pl_cmd_serve(int argc, char **argv) { (void)argc; (void)argv; return 2; }
