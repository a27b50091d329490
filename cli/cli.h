/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The subcommands of the plimsoll binary. Each returns the process exit
 * code: 0 success, 1 violations found (check), 2 bad usage or bad input.
 */
#ifndef PL_CLI_CLI_H
#define PL_CLI_CLI_H

#define PL_EXIT_OK         0
#define PL_EXIT_VIOLATIONS 1
#define PL_EXIT_USAGE      2

int pl_cmd_serve(int argc, char **argv);
int pl_cmd_check(int argc, char **argv);
int pl_cmd_audit(int argc, char **argv);
int pl_cmd_dashboard(int argc, char **argv);
int pl_cmd_certs(int argc, char **argv);
int pl_cmd_policies(int argc, char **argv);
int pl_cmd_version(int argc, char **argv);

/** Version string, e.g. "0.1.0". */
extern const char pl_version[];
/** Git commit the binary was built from, or "unknown". */
extern const char pl_git_commit[];
/** Build date (UTC, YYYY-MM-DD). */
extern const char pl_build_date[];

#endif
