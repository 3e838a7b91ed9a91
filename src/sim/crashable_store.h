/*
 * A store wrapper for the in-process simulator: it forwards every call to
 * a real backend (memory or SQLite) and can "crash": roll back the open
 * transaction and refuse every later write until restart, which is what a
 * killed process leaves behind. A restart reopens a file-backed store from
 * its URL, so that what the hub reads after a crash is what was on disk.
 */
#ifndef SIM_CRASHABLE_STORE_H
#define SIM_CRASHABLE_STORE_H

#include "store/store.h"

/*
 * Opens url (see cc_store_open) behind the wrapper. A "sqlite:PATH" store
 * starts empty: PATH and its -wal and -shm files are removed first.
 * Release with out->ops->destroy(out->self).
 */
int sim_crashable_store_open(struct cc_store *out, const char *url, char *err, size_t errlen);
void sim_crashable_store_crash(struct cc_store *st);
/* Returns 0, or a negative error when the store could not be reopened. */
int sim_crashable_store_restart(struct cc_store *st, char *err, size_t errlen);

#endif
