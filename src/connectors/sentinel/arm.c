/*
 * Azure Resource Manager helpers of the Sentinel connector (see arm.h):
 * SHA-256 (OpenSSL's EVP) for the derived names, jansson for the bodies.
 */
#include "connectors/sentinel/arm.h"

#include "connectors/text.h"
#include "core/iso8601.h"
#include "core/types.h"
#include "http/client.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* concord's namespace of derived names (a random UUID drawn once, fixed forever) */
static const unsigned char NAMESPACE[16] = { 0x5b, 0x2e, 0x8f, 0x61, 0x0c, 0x4d, 0x4a, 0x9b,
	                                     0x93, 0x17, 0xd2, 0x6a, 0x41, 0xe0, 0x7c, 0x35 };

int cc_arm_uuid(const char *name, char out[CC_ARM_UUID_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	          EVP_DigestUpdate(ctx, NAMESPACE, sizeof(NAMESPACE)) == 1 &&
	          EVP_DigestUpdate(ctx, name, strlen(name)) == 1 &&
	          EVP_DigestFinal_ex(ctx, md, &n) == 1 && n >= 16;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return CC_ENOMEM;
	md[6] = (unsigned char)((md[6] & 0x0f) | 0x80); /* version 8 */
	md[8] = (unsigned char)((md[8] & 0x3f) | 0x80); /* variant 10 */
	snprintf(out, CC_ARM_UUID_LEN,
	         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", md[0],
	         md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10], md[11],
	         md[12], md[13], md[14], md[15]);
	return 0;
}

int cc_arm_incident_name(const char *corr, char out[CC_ARM_UUID_LEN])
{
	char *n = cc_strf("incident\n%s", corr);
	int rc = n ? cc_arm_uuid(n, out) : CC_ENOMEM;
	free(n);
	return rc;
}

int cc_arm_comment_name(const char *incident, const char *body, char out[CC_ARM_UUID_LEN])
{
	/* the marker, up to its closing bracket, when the body starts with one */
	size_t len = strlen(body);
	if (strncmp(body, "[concord:", 9) == 0 && strchr(body, ']'))
		len = (size_t)(strchr(body, ']') - body) + 1;
	char *n = cc_strf("comment\n%s\n%.*s", incident, (int)len, body);
	int rc = n ? cc_arm_uuid(n, out) : CC_ENOMEM;
	free(n);
	return rc;
}

bool cc_arm_time(const char *text, int64_t *s, uint64_t *ticks)
{
	int64_t sec;
	int32_t ns;
	if (!cc_iso8601_parse_ns(text, &sec, &ns) || sec < 0)
		return false;
	*s = sec;
	*ticks = (uint64_t)sec * 10000000u + (uint64_t)(ns / 100);
	return true;
}

bool cc_arm_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > 47 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	return name[strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                         "0123456789-_.")] == '\0';
}

char *cc_arm_list_query(const char *api_version, int64_t from_s, int top)
{
	char when[32], filter[96];
	cc_format_utc(when, sizeof(when), from_s, true);
	snprintf(filter, sizeof(filter), "properties/lastModifiedTimeUtc ge %s", when);
	char *av = cc_http_escape(api_version), *fe = cc_http_escape(filter);
	char *oe = cc_http_escape("properties/lastModifiedTimeUtc asc");
	char *q = av && fe && oe ? cc_strf("?api-version=%s&$filter=%s&$orderby=%s&$top=%d", av,
	                                   fe, oe, top)
	                         : NULL;
	free(av);
	free(fe);
	free(oe);
	return q;
}

char *cc_arm_next_path(const char *base_url, const char *next_link)
{
	size_t n = strlen(base_url);
	while (n > 0 && base_url[n - 1] == '/')
		n--;
	if (!next_link || strncmp(next_link, base_url, n) != 0 || next_link[n] != '/')
		return NULL;
	for (const char *p = next_link; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return NULL;
	return strdup(next_link + n);
}

/* Incident properties a PUT carries (Incidents.json, IncidentProperties without readOnly). */
static const char *const WRITABLE[] = {
	"title", "description", "severity", "status", "owner", "classification",
	"classificationReason", "classificationComment", "labels", "firstActivityTimeUtc",
	"lastActivityTimeUtc", NULL,
};

/* Properties whose "" means absent. */
static const char *const OPTIONAL[] = {
	"description", "classification", "classificationReason", "classificationComment", NULL,
};

static bool listed(const char *const *list, const char *s)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

bool cc_arm_writable(const char *property)
{
	return listed(WRITABLE, property);
}

json_t *cc_arm_put_body(json_t *read)
{
	json_t *etag = json_object_get(read, "etag");
	json_t *props = json_object_get(read, "properties");
	if (!json_is_string(etag) || !json_is_object(props))
		return NULL;
	json_t *p = json_object();
	json_t *body = p ? json_pack("{s:O, s:o}", "etag", etag, "properties", p) : NULL;
	if (!body)
		return NULL;
	const char *k;
	json_t *v;
	json_object_foreach(props, k, v) {
		if (!cc_arm_writable(k))
			continue;
		if (!strcmp(k, "owner") && json_is_object(v)) {
			/* who it is assigned to, as ARM names them; not the shown name */
			json_t *o = json_object();
			const char *keys[] = { "objectId", "userPrincipalName", "email", "ownerType" };
			for (size_t i = 0; o && i < 4; i++)
				if (json_is_string(json_object_get(v, keys[i])))
					json_object_set(o, keys[i], json_object_get(v, keys[i]));
			if (!o || json_object_set_new(p, k, o)) {
				json_decref(body);
				return NULL;
			}
			continue;
		}
		if (json_object_set(p, k, v)) {
			json_decref(body);
			return NULL;
		}
	}
	return body;
}

/* labels: the kept ones, then each comma-separated name of v as a User label. */
static json_t *labels_of(json_t *old, const char *v, const char *keep_prefix)
{
	json_t *a = json_array();
	size_t i;
	json_t *l;
	json_array_foreach(old, i, l) {
		const char *n = json_string_value(json_object_get(l, "labelName"));
		if (a && n && keep_prefix && strncmp(n, keep_prefix, strlen(keep_prefix)) == 0)
			json_array_append(a, l);
	}
	for (const char *p = v; a && *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t n = strcspn(p, ",");
		size_t m = n;
		while (m > 0 && p[m - 1] == ' ')
			m--;
		if (m) {
			char *name = cc_strf("%.*s", (int)m, p);
			json_t *e = name ? json_pack("{s:s, s:s}", "labelName", name, "labelType", "User")
			                 : NULL;
			free(name);
			if (!e || json_array_append_new(a, e)) {
				json_decref(a);
				return NULL;
			}
		}
		p += n;
	}
	return a;
}

int cc_arm_set(json_t *props, const char *rn, const char *v, const char *keep_prefix)
{
	json_t *nv;
	if (!strcmp(rn, "owner"))
		nv = v[0] ? json_pack("{s:s}", "userPrincipalName", v) : json_object();
	else if (!strcmp(rn, "labels"))
		nv = labels_of(json_object_get(props, "labels"), v, keep_prefix);
	else if (!v[0] && listed(OPTIONAL, rn))
		return json_object_del(props, rn), 0;
	else
		nv = json_string(v);
	return nv && !json_object_set_new(props, rn, nv) ? 0 : CC_ENOMEM;
}

int cc_arm_fit_reason(json_t *props)
{
	const char *cls = json_string_value(json_object_get(props, "classification"));
	const char *why = json_string_value(json_object_get(props, "classificationReason"));
	const char *fit = NULL;
	if (cls && !strcmp(cls, "TruePositive"))
		fit = "SuspiciousActivity";
	else if (cls && !strcmp(cls, "BenignPositive"))
		fit = "SuspiciousButExpected";
	else if (cls && !strcmp(cls, "FalsePositive") && why &&
	         (!strcmp(why, "IncorrectAlertLogic") || !strcmp(why, "InaccurateData")))
		fit = why;
	if (!fit)
		return json_object_del(props, "classificationReason"), 0;
	if (why && !strcmp(why, fit))
		return 0;
	return json_object_set_new(props, "classificationReason", json_string(fit)) ? CC_ENOMEM : 0;
}

bool cc_arm_error(const char *body, size_t len, char *buf, size_t buflen)
{
	json_t *j = body && len ? json_loadb(body, len, 0, NULL) : NULL;
	json_t *e = json_object_get(j, "error");
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	if (code || msg)
		snprintf(buf, buflen, "%s%s%s", code ? code : "", code && msg ? ": " : "",
		         msg ? msg : "");
	json_decref(j);
	return code || msg;
}
