/*
 * The hub's side of the manual queue (see cc_hub_resolve in hub.h): a
 * person's resolution of a parked conflict, decided by the pure
 * cc_resolve() and made durable in one transaction with its audit entry
 * and the deliveries it needs.
 */
#include "core/hub_internal.h"

int cc_hub_resolve(struct cc_hub *h, uint64_t case_id, int field,
                   const struct cc_resolution *how, struct cc_resolve_outcome *out)
{
	struct cc_case c;
	int rc = ST(h)->begin(SS(h));
	if (rc)
		return cc_hub_fail(h, rc, "begin");
	rc = ST(h)->case_load(SS(h), case_id, &c);
	if (rc) {
		ST(h)->rollback(SS(h));
		return rc == CC_ENOTFOUND ? rc : cc_hub_fail(h, rc, "case_load");
	}
	int64_t now = cc_hub_now(h);
	rc = cc_resolve(h->cfg, &c, field, how, now, out);
	if (rc == CC_EOK)
		rc = cc_hub_audit(h, &c, out->system, field, CC_AUDIT_RESOLVED, c.f[field].value,
		                  &out->ver, 0, out->detail);
	/* Every linked record hears of it now, whatever its backoff said. */
	for (size_t s = 0; s < h->cfg->nsystems && rc == CC_EOK; s++) {
		if (c.link[s].status != CC_LINK_LINKED)
			continue;
		struct cc_outbox_entry e;
		rc = ST(h)->outbox_get(SS(h), case_id, (int)s, &e);
		if (rc == CC_ENOTFOUND)
			e = (struct cc_outbox_entry){ .case_id = case_id, .system = (int)s,
			                              .first_ms = now };
		else if (rc)
			break;
		e.due_ms = now;
		rc = ST(h)->outbox_put(SS(h), &e);
		if (rc)
			rc = cc_hub_fail(h, rc, "outbox_put");
	}
	if (rc == CC_EOK)
		rc = cc_hub_schedule(h, &c); /* a routing field may now ask for a create */
	if (rc == CC_EOK && (rc = ST(h)->case_save(SS(h), &c)) != CC_EOK)
		rc = cc_hub_fail(h, rc, "case_save");
	if (rc == CC_EOK && (rc = ST(h)->commit(SS(h))) != CC_EOK)
		rc = cc_hub_fail(h, rc, "commit");
	if (rc)
		ST(h)->rollback(SS(h));
	cc_case_clear(&c);
	return rc;
}
