/*
 * The concord command line: one function per subcommand, each thin.
 */
#ifndef CC_CLI_H
#define CC_CLI_H

int cc_cmd_sim(int argc, char **argv);

#endif
