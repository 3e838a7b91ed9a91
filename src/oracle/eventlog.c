/*
 * The true event log (see eventlog.h).
 */
#include "oracle/eventlog.h"

#include <stdlib.h>
#include <string.h>

void sim_log_init(struct sim_log *log)
{
	memset(log, 0, sizeof(*log));
	for (int s = 0; s < SIM_MAX_SYSTEMS; s++)
		log->route_field[s] = -1;
}

static void event_clear(struct sim_event *e)
{
	free(e->old_value);
	free(e->value);
	for (int f = 0; f < SF__COUNT; f++)
		free(e->values[f]);
}

void sim_log_clear(struct sim_log *log)
{
	for (size_t i = 0; i < log->nev; i++)
		event_clear(&log->ev[i]);
	free(log->ev);
	for (size_t i = 0; i < log->nfin; i++) {
		struct sim_final_record *fr = &log->fin[i];
		for (int f = 0; f < SF__COUNT; f++)
			free(fr->values[f]);
		for (size_t c = 0; c < fr->ncomments; c++)
			free(fr->comments[c]);
		free(fr->comments);
	}
	free(log->fin);
	sim_log_init(log);
}

static char *dup(const char *s, int *oom)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*oom = 1;
	return d;
}

int sim_log_append(struct sim_log *log, const struct sim_event *ev)
{
	if (log->nev == log->capev) {
		size_t cap = log->capev ? log->capev * 2 : 256;
		struct sim_event *n = realloc(log->ev, cap * sizeof(*n));
		if (!n)
			return SIM_ENOMEM;
		log->ev = n;
		log->capev = cap;
	}
	int oom = 0;
	struct sim_event e = *ev;
	e.old_value = dup(ev->old_value, &oom);
	e.value = dup(ev->value, &oom);
	for (int f = 0; f < SF__COUNT; f++)
		e.values[f] = dup(ev->values[f], &oom);
	if (oom) {
		event_clear(&e);
		return SIM_ENOMEM;
	}
	log->ev[log->nev++] = e;
	return 0;
}

int sim_log_final(struct sim_log *log, const struct sim_final_record *fr)
{
	if (log->nfin == log->capfin) {
		size_t cap = log->capfin ? log->capfin * 2 : 64;
		struct sim_final_record *n = realloc(log->fin, cap * sizeof(*n));
		if (!n)
			return SIM_ENOMEM;
		log->fin = n;
		log->capfin = cap;
	}
	int oom = 0;
	struct sim_final_record r = { .system = fr->system, .record = fr->record };
	for (int f = 0; f < SF__COUNT; f++)
		r.values[f] = dup(fr->values[f], &oom);
	if (fr->ncomments) {
		r.comments = calloc(fr->ncomments, sizeof(char *));
		if (!r.comments)
			oom = 1;
		else
			r.ncomments = fr->ncomments;
		for (size_t c = 0; c < r.ncomments; c++)
			r.comments[c] = dup(fr->comments[c], &oom);
	}
	if (oom) {
		for (int f = 0; f < SF__COUNT; f++)
			free(r.values[f]);
		for (size_t c = 0; c < r.ncomments; c++)
			free(r.comments[c]);
		free(r.comments);
		return SIM_ENOMEM;
	}
	log->fin[log->nfin++] = r;
	return 0;
}
