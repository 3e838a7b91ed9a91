/*
 * The concord command line: one function per subcommand, each thin.
 */
#ifndef CC_CLI_H
#define CC_CLI_H

int cc_cmd_sim(int argc, char **argv);
int cc_cmd_demo(int argc, char **argv);
int cc_cmd_audit(int argc, char **argv);
int cc_cmd_explain(int argc, char **argv);
int cc_cmd_deadletters(int argc, char **argv);
int cc_cmd_store(int argc, char **argv);
int cc_cmd_bench(int argc, char **argv);
int cc_cmd_serve(int argc, char **argv);
int cc_cmd_sync(int argc, char **argv);
int cc_cmd_status(int argc, char **argv);
int cc_cmd_pause(int argc, char **argv);
int cc_cmd_resume(int argc, char **argv);
int cc_cmd_resync(int argc, char **argv);
int cc_cmd_conflicts(int argc, char **argv);
int cc_cmd_check(int argc, char **argv);

#endif
