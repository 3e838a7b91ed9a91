/*
 * The learnt Jira workflow (see workflow.h): statuses, transitions, and
 * the next step of a path.
 */
#include "connectors/jira/workflow.h"

#include "core/types.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int cc_jira_workflow_init(struct cc_jira_workflow *w)
{
	memset(w, 0, sizeof(*w));
	return CC_EOK;
}

void cc_jira_workflow_clear(struct cc_jira_workflow *w)
{
	for (size_t i = 0; i < w->nst; i++)
		free(w->st[i].name);
	free(w->st);
	free(w->e);
	memset(w, 0, sizeof(*w));
}

static long find(const struct cc_jira_workflow *w, const char *name)
{
	for (size_t i = 0; name && i < w->nst; i++)
		if (!strcasecmp(w->st[i].name, name))
			return (long)i;
	return -1;
}

static int rank_of(const char *category)
{
	if (!category)
		return -1;
	if (!strcmp(category, "new"))
		return 0;
	if (!strcmp(category, "indeterminate"))
		return 1;
	if (!strcmp(category, "done"))
		return 2;
	return -1;
}

/* The index of status name, added when new (-1: out of memory). */
static long add(struct cc_jira_workflow *w, const char *name, const char *category)
{
	long i = find(w, name);
	if (i < 0) {
		if (w->nst == w->capst) {
			size_t cap = w->capst ? w->capst * 2 : 8;
			struct cc_jira_status *n = realloc(w->st, cap * sizeof(*n));
			if (!n)
				return -1;
			w->st = n;
			w->capst = cap;
		}
		char *copy = strdup(name);
		if (!copy)
			return -1;
		w->st[w->nst] = (struct cc_jira_status){ copy, -1 };
		i = (long)w->nst++;
	}
	int r = rank_of(category);
	if (r >= 0)
		w->st[i].rank = r;
	return i;
}

int cc_jira_workflow_status(struct cc_jira_workflow *w, const char *name, const char *category)
{
	if (!name || !name[0])
		return CC_EOK;
	return add(w, name, category) < 0 ? CC_ENOMEM : CC_EOK;
}

int cc_jira_workflow_edge(struct cc_jira_workflow *w, const char *from, const char *to)
{
	long a = add(w, from, NULL), b = a < 0 ? -1 : add(w, to, NULL);
	if (a < 0 || b < 0)
		return CC_ENOMEM;
	for (size_t i = 0; i < w->ne; i++)
		if (w->e[i].from == (size_t)a && w->e[i].to == (size_t)b)
			return CC_EOK;
	if (w->ne == w->cape) {
		size_t cap = w->cape ? w->cape * 2 : 16;
		struct cc_jira_edge *n = realloc(w->e, cap * sizeof(*n));
		if (!n)
			return CC_ENOMEM;
		w->e = n;
		w->cape = cap;
	}
	w->e[w->ne++] = (struct cc_jira_edge){ (size_t)a, (size_t)b };
	return CC_EOK;
}

static bool was_visited(const char *name, const char *const *visited, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(visited[i], name))
			return true;
	return false;
}

/* The category distance of status i to rank tr: 1 when either is unknown. */
static int distance(const struct cc_jira_workflow *w, size_t i, int tr)
{
	int r = w->st[i].rank;
	if (r < 0 || tr < 0)
		return 1;
	return r > tr ? r - tr : tr - r;
}

bool cc_jira_workflow_next(const struct cc_jira_workflow *w, const char *from, const char *to,
                           const char *const *visited, size_t nvisited, char *hop, size_t len)
{
	long s = find(w, from), t = find(w, to);
	if (s < 0)
		return false;
	/* breadth first over the transitions learnt: the first step of a shortest path */
	if (t >= 0) {
		long *prev = malloc(w->nst * sizeof(*prev));
		size_t *queue = malloc(w->nst * sizeof(*queue));
		bool found = false;
		if (prev && queue) {
			for (size_t i = 0; i < w->nst; i++)
				prev[i] = -1;
			size_t head = 0, tail = 0;
			queue[tail++] = (size_t)s;
			prev[s] = s;
			while (head < tail && !found) {
				size_t u = queue[head++];
				for (size_t k = 0; k < w->ne; k++) {
					size_t v = w->e[k].to;
					if (w->e[k].from != u || prev[v] >= 0)
						continue;
					prev[v] = (long)u;
					queue[tail++] = v;
					if (v == (size_t)t) {
						found = true;
						break;
					}
				}
			}
			if (found) {
				size_t v = (size_t)t;
				while (prev[v] != s)
					v = (size_t)prev[v];
				snprintf(hop, len, "%s", w->st[v].name);
			}
		}
		free(prev);
		free(queue);
		if (found)
			return true;
	}
	/* else one step towards the target's category, never away from it; a
	 * status of unknown category (or none) is not looked for by wandering */
	int tr = t >= 0 ? w->st[t].rank : -1;
	if (tr < 0)
		return false;
	int here = distance(w, (size_t)s, tr);
	long best = -1;
	int bestd = 0;
	for (size_t k = 0; k < w->ne; k++) {
		if (w->e[k].from != (size_t)s)
			continue;
		size_t v = w->e[k].to;
		if (was_visited(w->st[v].name, visited, nvisited) || v == (size_t)s)
			continue;
		int d = distance(w, v, tr);
		if (d > here)
			continue;
		if (best < 0 || d < bestd) {
			best = (long)v;
			bestd = d;
		}
	}
	if (best < 0)
		return false;
	snprintf(hop, len, "%s", w->st[best].name);
	return true;
}
