/*
 * The simulated world's vocabulary: which fields each kind of virtual
 * system carries, the values its people may enter, the Jira-like workflow,
 * and the concord configuration (fields, policies, mappings, routing) that
 * syncs them. Canonical field i is sim field i (enum sim_field).
 */
#ifndef SIM_SCENARIO_H
#define SIM_SCENARIO_H

#include "core/config.h"
#include "oracle/eventlog.h"

#define SIM_CLOCK_UNCERTAINTY_MS 2000

bool sim_kind_carries(enum sim_kind k, int field);
/* The values a person may choose for an enumerated field (NULL-terminated),
 * or NULL for free text and people. */
const char *const *sim_kind_values(enum sim_kind k, int field);
/* A person's name in a kind's own terms (Sentinel uses e-mail addresses). */
void sim_kind_user(enum sim_kind k, const char *login, char *buf, size_t len);
const char *sim_kind_initial_state(enum sim_kind k);
const char *sim_kind_name(enum sim_kind k);

/*
 * Required fields of a state (the screens and data policies of the real
 * systems): a ServiceNow-like record is Resolved (6) or Closed (7) only with
 * a close code, a Sentinel-like incident Closed only with a classification,
 * a Jira-like issue Done only with a resolution; each is the classification
 * field of its kind. A Jira-like issue holds a resolution only while Done
 * (leaving Done clears it). Whether `state` (a kind's remote value) needs
 * the classification field:
 */
bool sim_state_needs_classification(enum sim_kind k, const char *state);
/* The remote value the scenario's configuration names as the companion
 * default of a state that needs one (a Jira-like Done screen's default
 * resolution is the same value), or NULL. */
const char *sim_classification_default(enum sim_kind k);

/* Jira-like workflow: is there a transition from -> to? */
bool sim_jira_transition(const char *from, const char *to);
/* Shortest path of transitions; returns the number of hops (0: same), -1 none. */
int sim_jira_path_len(const char *from, const char *to);

extern const char *const sim_logins[];   /* assignees, NULL-terminated */
extern const char *const sim_callers[];  /* callers, NULL-terminated */

/* Builds the hub configuration for n systems of kinds k[i]. */
void sim_scenario_config(struct cc_config *cfg, size_t n, const enum sim_kind *kinds,
                         const int64_t *search_lag_ms, int64_t poll_interval_ms);
/* Fills the rules and routing of the log as the scenario states them. */
void sim_scenario_rules(struct sim_log *log);

#endif
