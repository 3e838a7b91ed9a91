/*
 * Helpers of the connector port (see connector.h).
 */
#include "core/connector.h"

#include <stdlib.h>

void cc_page_clear(struct cc_page *p)
{
	for (size_t i = 0; i < p->nitems; i++)
		cc_observation_clear(&p->items[i]);
	free(p->items);
	p->items = NULL;
	p->nitems = 0;
	p->more = false;
	free(p->next_id);
	p->next_id = NULL;
	p->next_mtime_s = 0;
}
