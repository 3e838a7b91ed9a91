/*
 * Text helpers of the connectors: formatting a new string, and comparing
 * a value as a remote system gives it back with the value written.
 */
#ifndef CC_CONNECTORS_TEXT_H
#define CC_CONNECTORS_TEXT_H

#include <stdbool.h>

/* A new string from a format (caller frees); NULL when out of memory. */
char *cc_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Equal but for trailing blanks and case (systems lowercase or pad values). */
bool cc_same_text(const char *a, const char *b);

/*
 * The credential of HTTP Basic authentication: base64 of "user:secret" (a
 * new string, NULL when out of memory; the plain pair is wiped). Used by
 * ServiceNow (user and password) and Jira (email and API token).
 */
char *cc_basic_credential(const char *user, const char *secret);

#endif
