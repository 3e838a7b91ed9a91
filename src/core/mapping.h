/*
 * Value translation between a system's own terms and canonical terms,
 * with the lossy-set rules of DESIGN section 6, and the normalization that
 * keeps round trips stable (inbound then outbound gives back the same
 * remote value).
 *
 * The empty string means "not set" in every system and maps to itself.
 */
#ifndef CC_MAPPING_H
#define CC_MAPPING_H

#include "core/config.h"

enum cc_map_outcome {
	CC_MAP_SAME = 0,  /* nothing to do: the value already stands for it */
	CC_MAP_CHANGE,    /* *out holds the translated value */
	CC_MAP_UNMAPPED,  /* no entry covers the value: park, never default */
};

/*
 * Inbound: the system holds `remote`; the case holds `current` (canonical).
 * SAME when `current` lies in the set that `remote` stands for; CHANGE with
 * *out = that set's default otherwise. *out borrows from map or remote.
 */
enum cc_map_outcome cc_map_inbound(const struct cc_field_map *map,
                                   const char *remote, const char *current,
                                   const char **out);

/*
 * Outbound: the case holds `canonical`; the system holds `shadow` (its own
 * terms, as the hub last knows it). SAME when `canonical` lies in the set
 * that `shadow` stands for; CHANGE with *out = the remote value for
 * `canonical` otherwise. *out borrows from map or canonical.
 */
enum cc_map_outcome cc_map_outbound(const struct cc_field_map *map,
                                    const char *canonical, const char *shadow,
                                    const char **out);

/* True when `canonical` is one of the values `remote` stands for. */
bool cc_map_covers(const struct cc_field_map *map, const char *remote,
                   const char *canonical);

/*
 * Returns the normal form of a value of the given type: CR LF and lone CR
 * become LF, trailing white space of each line and of the whole value is
 * removed, NUL-free; strings, users and enums also lose leading space.
 * Returns a new string the caller frees, or NULL when out of memory.
 */
char *cc_value_normalize(enum cc_field_type type, const char *value);

#endif
