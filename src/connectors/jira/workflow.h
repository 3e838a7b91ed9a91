/*
 * A Jira workflow as the connector learns it: the statuses seen (with
 * their category: new, indeterminate, done) and the transitions seen
 * between them (GET .../transitions answers those available from one
 * status; an account without the Administer Jira permission cannot read a
 * whole workflow). A status write asks for the next status on a path:
 * the shortest path over the transitions learnt, else a step towards the
 * target's category (known from the project's statuses) through a status
 * not visited yet. Pure: no I/O.
 *
 * Ownership: the workflow owns copies of every name given to it.
 */
#ifndef CC_CONNECTORS_JIRA_WORKFLOW_H
#define CC_CONNECTORS_JIRA_WORKFLOW_H

#include <stdbool.h>
#include <stddef.h>

struct cc_jira_status {
	char *name;
	int rank;                /* category: new 0, indeterminate 1, done 2; -1 unknown */
};

struct cc_jira_edge {
	size_t from, to;         /* indexes of statuses */
};

struct cc_jira_workflow {
	struct cc_jira_status *st;
	size_t nst, capst;
	struct cc_jira_edge *e;
	size_t ne, cape;
};

/* 0, or CC_ENOMEM. */
int cc_jira_workflow_init(struct cc_jira_workflow *w);
void cc_jira_workflow_clear(struct cc_jira_workflow *w);
/* A status seen, with its statusCategory key (may be NULL). 0, or CC_ENOMEM; NULL name: 0. */
int cc_jira_workflow_status(struct cc_jira_workflow *w, const char *name, const char *category);
/* A transition seen from one status to another (names, case-insensitive). 0, or CC_ENOMEM. */
int cc_jira_workflow_edge(struct cc_jira_workflow *w, const char *from, const char *to);
/*
 * The next status from `from` towards `to` into hop (len bytes): the first
 * step of a shortest path over the transitions learnt; when none reaches
 * `to`, the status one transition away, not in visited, whose category is
 * nearest the target's (never further than from's; a neighbour of unknown
 * category counts as one step away), when the target's category is known.
 * False otherwise.
 */
bool cc_jira_workflow_next(const struct cc_jira_workflow *w, const char *from, const char *to,
                           const char *const *visited, size_t nvisited, char *hop, size_t len);

#endif
