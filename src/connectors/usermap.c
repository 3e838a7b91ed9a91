/*
 * The user map of a connector (see usermap.h): two arrays searched
 * linearly (a map holds the handful of accounts a site names).
 */
#include "connectors/usermap.h"

#include "core/types.h"

#include <stdlib.h>
#include <string.h>

int cc_usermap_init(struct cc_usermap *m, const struct cc_connector_user *users, size_t n)
{
	memset(m, 0, sizeof(*m));
	if (!n)
		return 0;
	m->remote = calloc(n, sizeof(*m->remote));
	m->person = calloc(n, sizeof(*m->person));
	if (!m->remote || !m->person)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		if (!users[i].remote || !users[i].person)
			continue;
		m->remote[m->n] = strdup(users[i].remote);
		m->person[m->n] = strdup(users[i].person);
		m->n++;
		if (!m->remote[m->n - 1] || !m->person[m->n - 1])
			goto oom;
	}
	return 0;
oom:
	cc_usermap_clear(m);
	return CC_ENOMEM;
}

void cc_usermap_clear(struct cc_usermap *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->remote[i]);
		free(m->person[i]);
	}
	free(m->remote);
	free(m->person);
	memset(m, 0, sizeof(*m));
}

const char *cc_usermap_person(const struct cc_usermap *m, const char *remote)
{
	if (!remote)
		return NULL;
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->remote[i], remote) == 0)
			return m->person[i];
	return remote;
}

const char *cc_usermap_remote(const struct cc_usermap *m, const char *person)
{
	if (!person)
		return NULL;
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->person[i], person) == 0)
			return m->remote[i];
	return person;
}
