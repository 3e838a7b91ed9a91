/*
 * The simulated world's vocabulary and its concord configuration
 * (see scenario.h).
 */
#include "sim/scenario.h"

#include <stdio.h>
#include <string.h>

const char *const sim_logins[] = { "alice", "bob", "carol", "dave", "erin", "frank", NULL };
const char *const sim_callers[] = { "gina", "hank", "ivan", "judy", "kim", "leo", NULL };

/* ---- remote values per kind ------------------------------------------- */

static const char *const snow_state[] = { "1", "2", "3", "6", "7", "8", NULL };
static const char *const snow_priority[] = { "1", "2", "3", "4", "5", NULL };
static const char *const snow_class[] = { "Undetermined", "True positive", "False positive",
	                                  "Benign positive", NULL };
static const char *const snow_group[] = { "Network", "Service Desk", "Security", NULL };
static const char *const sent_state[] = { "New", "Active", "Closed", NULL };
static const char *const sent_priority[] = { "High", "Medium", "Low", "Informational", NULL };
static const char *const sent_class[] = { "Undetermined", "TruePositive", "FalsePositive",
	                                  "BenignPositive", NULL };
static const char *const jira_state[] = { "To Do", "In Progress", "Waiting", "Done", NULL };
static const char *const jira_priority[] = { "Highest", "High", "Medium", "Low", "Lowest", NULL };
static const char *const jira_group[] = { "Networking", "Service Desk", "Security", NULL };
static const char *const jira_resolution[] = { "Done", "Won't Do", NULL };

bool sim_kind_carries(enum sim_kind k, int field)
{
	switch (k) {
	case SIM_KIND_SNOW:
		return field >= 0 && field < SF__COUNT;
	case SIM_KIND_SENTINEL:
		return field != SF_CALLER && field != SF_GROUP && field >= 0 && field < SF__COUNT;
	case SIM_KIND_JIRA: /* the classification is the resolution */
		return field >= 0 && field < SF__COUNT;
	}
	return false;
}

const char *const *sim_kind_values(enum sim_kind k, int field)
{
	switch (field) {
	case SF_STATE:
		return k == SIM_KIND_SNOW ? snow_state : k == SIM_KIND_SENTINEL ? sent_state : jira_state;
	case SF_PRIORITY:
		return k == SIM_KIND_SNOW ? snow_priority
		       : k == SIM_KIND_SENTINEL ? sent_priority : jira_priority;
	case SF_CLASSIFICATION:
		return k == SIM_KIND_SNOW ? snow_class : k == SIM_KIND_SENTINEL ? sent_class : jira_resolution;
	case SF_GROUP:
		return k == SIM_KIND_SNOW ? snow_group : k == SIM_KIND_JIRA ? jira_group : NULL;
	default:
		return NULL;
	}
}

void sim_kind_user(enum sim_kind k, const char *login, char *buf, size_t len)
{
	if (k == SIM_KIND_SENTINEL && login[0])
		snprintf(buf, len, "%s@corp.example", login);
	else
		snprintf(buf, len, "%s", login);
}

const char *sim_kind_initial_state(enum sim_kind k)
{
	return k == SIM_KIND_SNOW ? "1" : k == SIM_KIND_SENTINEL ? "New" : "To Do";
}

const char *sim_kind_name(enum sim_kind k)
{
	return k == SIM_KIND_SNOW ? "servicenow" : k == SIM_KIND_SENTINEL ? "sentinel" : "jira";
}

/* ---- required fields ---------------------------------------------------- */

/* The companion defaults of the configuration below, and of a Jira-like Done screen. */
#define CLOSE_DEFAULT "Undetermined"
#define RESOLUTION_DEFAULT "Done"

bool sim_state_needs_classification(enum sim_kind k, const char *state)
{
	if (!state)
		return false;
	switch (k) {
	case SIM_KIND_SNOW:
		return !strcmp(state, "6") || !strcmp(state, "7");
	case SIM_KIND_SENTINEL:
		return !strcmp(state, "Closed");
	case SIM_KIND_JIRA:
		return !strcmp(state, "Done");
	}
	return false;
}

const char *sim_classification_default(enum sim_kind k)
{
	return k == SIM_KIND_JIRA ? RESOLUTION_DEFAULT : CLOSE_DEFAULT;
}

/* ---- the Jira-like workflow ------------------------------------------- */

static const char *const jira_transitions[][2] = {
	{ "To Do", "In Progress" }, { "To Do", "Done" },        { "In Progress", "Waiting" },
	{ "In Progress", "Done" },  { "In Progress", "To Do" }, { "Waiting", "In Progress" },
	{ "Done", "To Do" },
};

bool sim_jira_transition(const char *from, const char *to)
{
	for (size_t i = 0; i < sizeof(jira_transitions) / sizeof(jira_transitions[0]); i++)
		if (!strcmp(jira_transitions[i][0], from) && !strcmp(jira_transitions[i][1], to))
			return true;
	return false;
}

int sim_jira_path_len(const char *from, const char *to)
{
	/* Breadth-first over four statuses. */
	int dist[4] = { -1, -1, -1, -1 };
	int queue[4], head = 0, tail = 0, start = -1, goal = -1;
	for (int i = 0; i < 4; i++) {
		if (!strcmp(jira_state[i], from))
			start = i;
		if (!strcmp(jira_state[i], to))
			goal = i;
	}
	if (start < 0 || goal < 0)
		return -1;
	dist[start] = 0;
	queue[tail++] = start;
	while (head < tail) {
		int u = queue[head++];
		for (int v = 0; v < 4; v++) {
			if (dist[v] < 0 && sim_jira_transition(jira_state[u], jira_state[v])) {
				dist[v] = dist[u] + 1;
				queue[tail++] = v;
			}
		}
	}
	return dist[goal];
}

/* ---- the concord configuration ---------------------------------------- */

#define SET(...) ((const char *const[]){ __VA_ARGS__, NULL })

/*
 * The states that need the classification field (sim_state_needs_classification)
 * carry it as a companion: the case's classification, else the default.
 */
static const struct cc_companion snow_close_code[] = { { SF_CLASSIFICATION, CLOSE_DEFAULT } };
static const struct cc_companion sent_classification[] = { { SF_CLASSIFICATION, CLOSE_DEFAULT } };
static const struct cc_companion jira_resolution_companion[] = { { SF_CLASSIFICATION,
	                                                             RESOLUTION_DEFAULT } };
#define NEEDS(r, set, d, cps)                                                              \
	{ .remote = (r), .canonical = (set), .dflt = (d), .companions = (cps),              \
	  .ncompanions = sizeof(cps) / sizeof((cps)[0]) }

static const struct cc_value_entry snow_state_map[] = {
	CC_VALUE("1", SET("new"), NULL),
	CC_VALUE("2", SET("in_progress"), NULL),
	CC_VALUE("3", SET("on_hold"), NULL),
	NEEDS("6", SET("resolved"), NULL, snow_close_code),
	NEEDS("7", SET("closed"), NULL, snow_close_code),
	CC_VALUE("8", SET("canceled"), NULL),
};
static const struct cc_value_entry sent_state_map[] = {
	CC_VALUE("New", SET("new"), NULL),
	CC_VALUE("Active", SET("in_progress", "on_hold"), "in_progress"),
	NEEDS("Closed", SET("resolved", "closed", "canceled"), "resolved", sent_classification),
};
static const struct cc_value_entry jira_state_map[] = {
	CC_VALUE("To Do", SET("new"), NULL),
	CC_VALUE("In Progress", SET("in_progress"), NULL),
	CC_VALUE("Waiting", SET("on_hold"), NULL),
	NEEDS("Done", SET("resolved", "closed", "canceled"), "resolved", jira_resolution_companion),
};
static const struct cc_value_entry snow_priority_map[] = {
	CC_VALUE("1", SET("critical"), NULL), CC_VALUE("2", SET("high"), NULL), CC_VALUE("3", SET("moderate"), NULL),
	CC_VALUE("4", SET("low"), NULL),      CC_VALUE("5", SET("planning"), NULL),
};
static const struct cc_value_entry sent_priority_map[] = {
	CC_VALUE("High", SET("critical", "high"), "high"),
	CC_VALUE("Medium", SET("moderate"), NULL),
	CC_VALUE("Low", SET("low"), NULL),
	CC_VALUE("Informational", SET("planning"), NULL),
};
static const struct cc_value_entry jira_priority_map[] = {
	CC_VALUE("Highest", SET("critical"), NULL), CC_VALUE("High", SET("high"), NULL),
	CC_VALUE("Medium", SET("moderate"), NULL),  CC_VALUE("Low", SET("low"), NULL),
	CC_VALUE("Lowest", SET("planning"), NULL),
};
static const struct cc_value_entry snow_class_map[] = {
	CC_VALUE("Undetermined", SET("undetermined"), NULL),
	CC_VALUE("True positive", SET("true_positive"), NULL),
	CC_VALUE("False positive", SET("false_positive"), NULL),
	CC_VALUE("Benign positive", SET("benign_positive"), NULL),
};
static const struct cc_value_entry sent_class_map[] = {
	CC_VALUE("Undetermined", SET("undetermined"), NULL),
	CC_VALUE("TruePositive", SET("true_positive"), NULL),
	CC_VALUE("FalsePositive", SET("false_positive"), NULL),
	CC_VALUE("BenignPositive", SET("benign_positive"), NULL),
};
/* A Jira-like resolution stands for the classifications it closes with. */
static const struct cc_value_entry jira_resolution_map[] = {
	CC_VALUE("Done", SET("true_positive", "undetermined"), "true_positive"),
	CC_VALUE("Won't Do", SET("false_positive", "benign_positive"), "false_positive"),
};
static const struct cc_value_entry snow_group_map[] = {
	CC_VALUE("Network", SET("network"), NULL),
	CC_VALUE("Service Desk", SET("service_desk"), NULL),
	CC_VALUE("Security", SET("security"), NULL),
};
static const struct cc_value_entry jira_group_map[] = {
	CC_VALUE("Networking", SET("network"), NULL),
	CC_VALUE("Service Desk", SET("service_desk"), NULL),
	CC_VALUE("Security", SET("security"), NULL),
};
static const struct cc_value_entry sent_user_map[] = {
	CC_VALUE("alice@corp.example", SET("alice"), NULL), CC_VALUE("bob@corp.example", SET("bob"), NULL),
	CC_VALUE("carol@corp.example", SET("carol"), NULL), CC_VALUE("dave@corp.example", SET("dave"), NULL),
	CC_VALUE("erin@corp.example", SET("erin"), NULL),   CC_VALUE("frank@corp.example", SET("frank"), NULL),
};

#define TABLE(arr) CC_MAP_TABLE, arr, sizeof(arr) / sizeof(arr[0])

static const struct cc_route_rule jira_routes[] = {
	{ .field = SF_GROUP, .op = CC_ROUTE_NE, .value = "security" },
};

static struct cc_field_map table_map(const char *name, const struct cc_value_entry *e, size_t n)
{
	return (struct cc_field_map){ .mapped = true, .remote_name = name, .kind = CC_MAP_TABLE,
		                      .entries = e, .nentries = n };
}

static struct cc_field_map identity_map(const char *name)
{
	return (struct cc_field_map){ .mapped = true, .remote_name = name, .kind = CC_MAP_IDENTITY };
}

#define TMAP(name, arr) table_map(name, arr, sizeof(arr) / sizeof(arr[0]))

static void map_kind(struct cc_system_def *sd, enum sim_kind k)
{
	switch (k) {
	case SIM_KIND_SNOW:
		sd->map[SF_TITLE] = identity_map("short_description");
		sd->map[SF_DESCRIPTION] = identity_map("description");
		sd->map[SF_STATE] = TMAP("state", snow_state_map);
		sd->map[SF_PRIORITY] = TMAP("priority", snow_priority_map);
		sd->map[SF_ASSIGNEE] = identity_map("assigned_to");
		sd->map[SF_CALLER] = identity_map("caller_id");
		sd->map[SF_CLASSIFICATION] = TMAP("close_code", snow_class_map);
		sd->map[SF_GROUP] = TMAP("assignment_group", snow_group_map);
		break;
	case SIM_KIND_SENTINEL:
		sd->map[SF_TITLE] = identity_map("title");
		sd->map[SF_DESCRIPTION] = identity_map("description");
		sd->map[SF_STATE] = TMAP("status", sent_state_map);
		sd->map[SF_PRIORITY] = TMAP("severity", sent_priority_map);
		sd->map[SF_ASSIGNEE] = TMAP("owner", sent_user_map);
		sd->map[SF_CLASSIFICATION] = TMAP("classification", sent_class_map);
		break;
	case SIM_KIND_JIRA:
		sd->map[SF_TITLE] = identity_map("summary");
		sd->map[SF_DESCRIPTION] = identity_map("description");
		sd->map[SF_STATE] = TMAP("status", jira_state_map);
		sd->map[SF_PRIORITY] = TMAP("priority", jira_priority_map);
		sd->map[SF_ASSIGNEE] = identity_map("assignee");
		sd->map[SF_CALLER] = identity_map("reporter");
		sd->map[SF_CLASSIFICATION] = TMAP("resolution", jira_resolution_map);
		sd->map[SF_GROUP] = TMAP("components", jira_group_map);
		sd->routes = jira_routes;
		sd->nroutes = 1;
		break;
	}
}

void sim_scenario_config(struct cc_config *cfg, size_t n, const enum sim_kind *kinds,
                         const int64_t *search_lag_ms, int64_t poll_interval_ms)
{
	static const struct cc_field_def fields[SF__COUNT] = {
		[SF_TITLE] = { "title", CC_FT_STRING, CC_POLICY_LWW, -1, 0, true, NULL },
		[SF_DESCRIPTION] = { "description", CC_FT_TEXT, CC_POLICY_LWW, -1, 0, false, NULL },
		[SF_STATE] = { "state", CC_FT_ENUM, CC_POLICY_LWW, -1, 0, false, NULL },
		/* ServiceNow (system 0) is the system of record for priority. */
		[SF_PRIORITY] = { "priority", CC_FT_PRIORITY, CC_POLICY_OWNER, 0, CC_OWNER_REVERT, false,
		                  NULL },
		/* A real conflict over who works on it waits for a person. */
		[SF_ASSIGNEE] = { "assignee", CC_FT_USER, CC_POLICY_MANUAL, -1, 0, false, NULL },
		[SF_CALLER] = { "caller", CC_FT_USER, CC_POLICY_LWW, -1, 0, true, NULL },
		/* Sentinel (system 1) owns the classification; others keep theirs. */
		[SF_CLASSIFICATION] = { "classification", CC_FT_ENUM, CC_POLICY_OWNER, 1,
		                        CC_OWNER_IGNORE, false, NULL },
		[SF_GROUP] = { "group", CC_FT_ENUM, CC_POLICY_LWW, -1, 0, false, NULL },
	};
	cc_config_defaults(cfg);
	memcpy(cfg->fields, fields, sizeof(fields));
	cfg->nfields = SF__COUNT;
	cfg->dedup_title_field = SF_TITLE;
	cfg->dedup_caller_field = SF_CALLER;
	cfg->clock_uncertainty_ms = SIM_CLOCK_UNCERTAINTY_MS;
	cfg->create_settle_ms = 90 * 1000;
	cfg->dedup_window_ms = 30 * 60 * 1000;
	cfg->backoff_base_ms = 2000;
	cfg->backoff_max_ms = 5 * 60 * 1000;
	cfg->breaker_failures = 5;
	cfg->breaker_open_ms = 60 * 1000;
	cfg->nsystems = n;
	for (size_t s = 0; s < n; s++) {
		struct cc_system_def *sd = &cfg->systems[s];
		static char names[CC_MAX_SYSTEMS][24];
		snprintf(names[s], sizeof(names[s]), "%s-%zu", sim_kind_name(kinds[s]), s);
		sd->name = names[s];
		sd->kind = sim_kind_name(kinds[s]);
		sd->rank = (int32_t)s + 1;
		sd->comments = true;
		sd->integration_user = "concord";
		sd->poll_interval_ms = poll_interval_ms;
		sd->poll_overlap_s = 30;
		sd->search_lag_ms = search_lag_ms[s];
		sd->page_size = 20;
		map_kind(sd, kinds[s]);
	}
}

void sim_scenario_rules(struct sim_log *log)
{
	for (int f = 0; f < SF__COUNT; f++) {
		log->rules[f] = SIM_RULE_LWW;
		log->owner[f] = -1;
	}
	log->rules[SF_PRIORITY] = SIM_RULE_OWNER_REVERT;
	log->owner[SF_PRIORITY] = 0;
	log->rules[SF_CLASSIFICATION] = SIM_RULE_OWNER_IGNORE;
	log->owner[SF_CLASSIFICATION] = 1;
	log->rules[SF_ASSIGNEE] = SIM_RULE_MANUAL;
	log->uncertainty_ms = SIM_CLOCK_UNCERTAINTY_MS;
	for (size_t s = 0; s < log->nsystems; s++) {
		log->route_field[s] = log->kinds[s] == SIM_KIND_JIRA ? SF_GROUP : -1;
		log->route_unless[s] = log->kinds[s] == SIM_KIND_JIRA ? "security" : NULL;
	}
}
