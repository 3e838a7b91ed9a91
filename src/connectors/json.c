/*
 * JSON scalars and shape checks (see json.h).
 */
#include "connectors/json.h"

#include "core/iso8601.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cc_json_str(json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	}
	if (json_is_real(v)) {
		snprintf(buf, len, "%g", json_real_value(v));
		return buf;
	}
	if (json_is_true(v))
		return "true";
	if (json_is_false(v))
		return "false";
	return NULL;
}

const char *cc_json_text(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

int64_t cc_json_int(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

int64_t cc_json_int_id(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) && json_integer_value(v) > 0 ? json_integer_value(v) : 0;
}

uint64_t cc_json_id(json_t *v)
{
	if (json_is_integer(v))
		return json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
	const char *s = json_string_value(v);
	if (!s || !s[0] || strlen(s) > 19 || strspn(s, "0123456789") != strlen(s))
		return 0;
	return strtoull(s, NULL, 10);
}

bool cc_json_time(json_t *o, const char *key, int64_t *out)
{
	return cc_iso8601_parse(cc_json_text(o, key), out);
}

json_t *cc_json_array(json_t *o, const char *key)
{
	json_t *a = json_object_get(o, key);
	return json_is_array(a) ? a : NULL;
}

json_t *cc_json_named(json_t *a, const char *name)
{
	size_t i;
	json_t *e;
	json_array_foreach(a, i, e) {
		const char *n = cc_json_text(e, "name");
		if (n && strcmp(n, name) == 0)
			return e;
	}
	return NULL;
}

bool cc_json_more_pages(json_t *answer, const char *pages_key, int64_t page, size_t n,
                        size_t per_page, bool *bad)
{
	json_t *p = json_object_get(answer, pages_key);
	*bad = false;
	if (!p || json_is_null(p))
		return n >= per_page;
	/* RT 5.0.3 answers an empty search with "pages": 0.0 */
	double d = json_number_value(p);
	if (!json_is_number(p) || d < 0 || d > 1e9 || d != (double)(int64_t)d) {
		*bad = true;
		return false;
	}
	return page < (int64_t)d;
}

bool cc_json_more_rows(json_t *answer, const char *total_key, int64_t page, size_t n,
                       size_t per_page, bool *bad)
{
	json_t *t = json_object_get(answer, total_key);
	*bad = t && !json_is_integer(t);
	if (*bad || n < per_page)
		return false;
	return !t || page * (int64_t)per_page < json_integer_value(t);
}
