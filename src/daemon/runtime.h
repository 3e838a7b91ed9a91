/*
 * The runtime of the daemon: the configuration file, the store, one
 * connector per system and the hub, driven by the real clock. `concord
 * serve` runs it until SIGTERM (SIGHUP reloads the configuration);
 * `concord sync --once` runs one full cycle.
 */
#ifndef CC_RUNTIME_H
#define CC_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct cc_runtime;

/*
 * Loads the configuration at path, opens the store (store_url overrides the
 * file's; NULL: the file's, else the default), creates the connectors and
 * the hub. Log lines go to log. Returns 0, or 2 with a message in err
 * (configuration or store error).
 */
int cc_runtime_open(struct cc_runtime **out, const char *path, const char *store_url,
                    FILE *log, char *err, size_t errlen);
void cc_runtime_close(struct cc_runtime *rt);

/*
 * One full cycle: polls every system, delivers until the outbox is empty or
 * only waits on backoff (waiting for create gates and polling again while
 * that takes less than max_wait_ms). Returns 0 when everything was
 * delivered, 1 when something was dead-lettered or parked, 2 on a store
 * error.
 */
int cc_runtime_sync_once(struct cc_runtime *rt, int64_t max_wait_ms);

/* Runs until SIGTERM or SIGINT; SIGHUP reloads the configuration. */
int cc_runtime_serve(struct cc_runtime *rt);

#endif
