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

#endif
