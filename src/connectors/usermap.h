/*
 * The user map of a connector: the system's account names and the people
 * they are (the configuration's `users:` of one system), both ways.
 *
 * Ownership: a map owns copies of every name (cc_usermap_clear); the
 * names it returns are borrowed from it or from the argument.
 */
#ifndef CC_CONNECTORS_USERMAP_H
#define CC_CONNECTORS_USERMAP_H

#include <stddef.h>

/* One line of the user map, as configured: the system's account name and the person it is. */
struct cc_connector_user {
	const char *remote;  /* RT user Name, Redmine login */
	const char *person;  /* canonical person */
};

struct cc_usermap {
	char **remote;
	char **person;
	size_t n;
};

/* Copies the n lines of users (lines with a NULL side are left out). 0 or CC_ENOMEM. */
int cc_usermap_init(struct cc_usermap *m, const struct cc_connector_user *users, size_t n);
void cc_usermap_clear(struct cc_usermap *m);

/*
 * The person an account is, or the account itself when the map does not
 * know it (the engine then parks a value no mapping covers).
 */
const char *cc_usermap_person(const struct cc_usermap *m, const char *remote);

/* The account a person is, or the value itself when the map does not know it. */
const char *cc_usermap_remote(const struct cc_usermap *m, const char *person);

#endif
