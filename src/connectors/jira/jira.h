/*
 * The Jira Cloud connector (kind "jira"): see jira.c and
 * docs/connectors/jira.md.
 */
#ifndef CC_CONNECTORS_JIRA_H
#define CC_CONNECTORS_JIRA_H

#include "connectors/registry.h"

/* The labels that carry a correlation id start with it. */
#define CC_JIRA_CORR_PREFIX "concord-"

extern const struct cc_connector_kind cc_jira_kind;

#endif
