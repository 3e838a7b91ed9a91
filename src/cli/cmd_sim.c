/*
 * `concord sim`: runs the deterministic simulator over a range of seeds and
 * reports the guarantees it checked, readable and as one JSON line.
 * The output holds no wall-clock figure: the same arguments always print
 * the same bytes.
 */
#include "cli/cli.h"
#include "sim/sim.h"
#include "store/store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void help(FILE *f)
{
	fprintf(f,
	        "usage: concord sim [OPTIONS]\n"
	        "\n"
	        "Runs seeded simulations of virtual ServiceNow-, Sentinel- and Jira-like\n"
	        "systems synced by concord, with people editing and faults striking, then\n"
	        "checks convergence, loops, oscillations, duplicates and lost updates.\n"
	        "\n"
	        "  --seed S          first seed (default 1)\n"
	        "  --runs N          runs, seeds S to S+N-1 (default 1)\n"
	        "  --systems N       virtual systems, 3 to 8 (default 3)\n"
	        "  --faults LIST     all, none, or a comma list of: delay, duplicate, reorder,\n"
	        "                    drop, overlap, ratelimit, 5xx, timeout, crash, partition,\n"
	        "                    skew, lag, torn (default all; all leaves out torn: name\n"
	        "                    it, as in all,torn)\n"
	        "  --model M         hub (concord), dual (two one-way pipelines per pair), or\n"
	        "                    process (the hub in a child process over SQLite, killed\n"
	        "                    with SIGKILL at crash points and at random: fault crash)\n"
	        "  --min-edit-gap S  people's actions at least S seconds apart (default 0)\n"
	        "  --hours H         hours of edits (default 4)\n"
	        "  --store URL       the hub's store: memory (default), or a durable one\n"
	        "                    (sqlite:PATH, concord --help lists them); each run\n"
	        "                    starts from an empty store\n"
	        "  --narrate         tell the story of each run\n"
	        "  --json            end with one JSON object on the last line\n"
	        "  --help            this text\n");
}

static int parse_faults(const char *s, uint32_t *out)
{
	if (strcmp(s, "all") == 0) {
		*out = SIM_F_ALL;
		return 0;
	}
	if (strcmp(s, "none") == 0) {
		*out = 0;
		return 0;
	}
	uint32_t f = 0;
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
		/* "all,torn": every fault of all, and torn */
		uint32_t bit = strcmp(tok, "all") == 0 ? SIM_F_ALL : sim_fault_parse(tok);
		if (!bit) {
			fprintf(stderr, "concord sim: unknown fault '%s' (see --help)\n", tok);
			return CC_EINVAL;
		}
		f |= bit;
	}
	*out = f;
	return 0;
}

static void faults_string(uint32_t faults, char *buf, size_t len)
{
	if (faults == SIM_F_ALL) {
		snprintf(buf, len, "all");
		return;
	}
	if (faults == 0) {
		snprintf(buf, len, "none");
		return;
	}
	size_t o = 0;
	buf[0] = '\0';
	for (uint32_t bit = 1; bit <= SIM_F_KNOWN; bit <<= 1)
		if (faults & bit)
			o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s%s", o ? "," : "",
			                      sim_fault_name(bit));
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (!s || !*s)
		return false;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end)
		return false;
	*out = v;
	return true;
}

static bool run_failed(const struct sim_result *r)
{
	const struct oracle_result *o = &r->oracle;
	return r->aborted || !o->converged || o->lost_updates || o->duplicates ||
	       o->duplicate_comments || o->oscillations || o->loop_writes || r->quiet_writes ||
	       o->parked_writes;
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

int cc_cmd_sim(int argc, char **argv)
{
	struct sim_options opt;
	uint64_t runs = 1, v;
	bool json = false, narrate = false;
	sim_options_defaults(&opt);

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			help(stdout);
			return 0;
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--narrate")) {
			narrate = true;
		} else if (!strcmp(a, "--seed") && parse_u64(val, &v)) {
			opt.seed = v;
			i++;
		} else if (!strcmp(a, "--runs") && parse_u64(val, &v) && v > 0) {
			runs = v;
			i++;
		} else if (!strcmp(a, "--systems") && parse_u64(val, &v) && v >= 3 && v <= SIM_MAX_SYSTEMS) {
			opt.nsystems = (size_t)v;
			i++;
		} else if (!strcmp(a, "--faults") && val) {
			if (parse_faults(val, &opt.faults))
				return 2;
			i++;
		} else if (!strcmp(a, "--model") && val &&
		           (!strcmp(val, "hub") || !strcmp(val, "dual") || !strcmp(val, "process"))) {
			opt.model = !strcmp(val, "hub")    ? SIM_MODEL_HUB
			            : !strcmp(val, "dual") ? SIM_MODEL_DUAL
			                                   : SIM_MODEL_PROCESS;
			i++;
		} else if (!strcmp(a, "--min-edit-gap") && parse_u64(val, &v)) {
			opt.min_edit_gap_ms = (int64_t)v * 1000;
			i++;
		} else if (!strcmp(a, "--store") && val) {
			char err[256];
			const struct cc_store_backend *b = cc_store_backend_of(val, NULL, err, sizeof(err));
			if (!b) {
				fprintf(stderr, "concord sim: --store: %s\n", err);
				return 2;
			}
			if (b->takes_path && !strchr(val, ':')[1]) {
				fprintf(stderr, "concord sim: --store: write %s\n", b->form);
				return 2;
			}
			opt.store_url = val;
			i++;
		} else if (!strcmp(a, "--hours") && parse_u64(val, &v) && v > 0 && v <= 48) {
			opt.edit_ms = (int64_t)v * 3600 * 1000;
			i++;
		} else {
			fprintf(stderr, "concord sim: bad option '%s'%s%s (see --help)\n", a,
			        val ? " " : "", val ? val : "");
			return 2;
		}
	}

	char faults[160], extra[96 + 4096] = "";
	faults_string(opt.faults, faults, sizeof(faults));
	if (opt.min_edit_gap_ms)
		snprintf(extra, sizeof(extra), " --min-edit-gap %" PRId64, opt.min_edit_gap_ms / 1000);
	if (opt.edit_ms != 4LL * 3600 * 1000)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), " --hours %" PRId64,
		         opt.edit_ms / 3600000);
	if (opt.store_url)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), " --store %s",
		         opt.store_url);
	const char *model = opt.model == SIM_MODEL_HUB    ? "hub"
	                    : opt.model == SIM_MODEL_DUAL ? "dual"
	                                                  : "process";
	uint64_t kills[SIM_KILL_POINTS] = { 0 }, kills_total = 0;
	uint64_t first = opt.seed;
	uint64_t converged = 0, lost = 0, dups = 0, dupc = 0, osc = 0, loops = 0, quiet = 0;
	uint64_t writes = 0, genuine = 0, api = 0, crashes = 0;
	uint64_t parked = 0, resolved = 0, parked_writes = 0;
	uint64_t *failed = calloc(runs, sizeof(*failed));
	size_t nfailed = 0;
	if (!failed) {
		fprintf(stderr, "concord sim: out of memory\n");
		return 2;
	}

	for (uint64_t r = 0; r < runs; r++) {
		struct sim_result res;
		opt.seed = first + r;
		opt.narrate = narrate ? stdout : NULL;
		if (narrate)
			printf("== seed %" PRIu64 ": %zu systems, model %s, faults %s\n", opt.seed,
			       opt.nsystems, model, faults);
		if (sim_run(&opt, &res)) {
			fprintf(stderr, "concord sim: out of memory in seed %" PRIu64 "\n", opt.seed);
			free(failed);
			return 2;
		}
		const struct oracle_result *o = &res.oracle;
		converged += o->converged && !res.aborted;
		lost += o->lost_updates;
		dups += o->duplicates;
		dupc += o->duplicate_comments;
		osc += o->oscillations;
		loops += o->loop_writes;
		quiet += res.quiet_writes;
		writes += o->hub_writes;
		genuine += o->genuine_changes;
		api += res.api_calls;
		crashes += res.crashes;
		parked += o->parked;
		resolved += o->resolved;
		parked_writes += o->parked_writes;
		for (int k = 0; k < SIM_KILL_POINTS; k++) {
			kills[k] += res.kills[k];
			kills_total += res.kills[k];
		}
		if (run_failed(&res)) {
			failed[nfailed++] = opt.seed;
			printf("seed %" PRIu64 " FAILED: converged=%s lost=%" PRIu64 " duplicates=%" PRIu64
			       " oscillations=%" PRIu64 " loop_writes=%" PRIu64 " quiet_writes=%" PRIu64
			       " parked_writes=%" PRIu64 "\n  %s\n  replay: concord sim --seed %" PRIu64
			       " --runs 1 --systems %zu --faults %s --model %s%s\n",
			       opt.seed, o->converged && !res.aborted ? "yes" : "no", o->lost_updates,
			       o->duplicates + o->duplicate_comments, o->oscillations, o->loop_writes,
			       res.quiet_writes, o->parked_writes, o->first_problem, opt.seed,
			       opt.nsystems, faults, model,
			       extra);
		} else if (narrate || runs <= 10) {
			printf("seed %" PRIu64 " ok: %" PRIu64 " changes, %" PRIu64 " writes, %" PRIu64
			       " API calls, %" PRIu64 " crashes\n",
			       opt.seed, o->genuine_changes, o->hub_writes, res.api_calls, res.crashes);
		}
	}

	printf("%" PRIu64 " runs, model %s, %zu systems, faults %s: %" PRIu64 " converged, %zu failed\n",
	       runs, model, opt.nsystems, faults, converged, nfailed);
	printf("  lost updates %" PRIu64 ", duplicates %" PRIu64 " (+%" PRIu64 " comments), oscillations %" PRIu64
	       ", loop writes %" PRIu64 ", writes in quiet windows %" PRIu64 "\n",
	       lost, dups, dupc, osc, loops, quiet);
	printf("  %" PRIu64 " genuine changes, %" PRIu64 " writes (%.3f per change), %" PRIu64
	       " API calls (%.3f per change), %" PRIu64 " crashes\n",
	       genuine, writes, ratio(writes, genuine), api, ratio(api, genuine), crashes);
	printf("  manual queue: %" PRIu64 " conflicts seen parked, %" PRIu64 " resolved by people, "
	       "%" PRIu64 " writes while parked\n", parked, resolved, parked_writes);
	if (opt.model == SIM_MODEL_PROCESS) {
		printf("  %" PRIu64 " kills of the hub process:", kills_total);
		for (int k = 0; k < SIM_KILL_POINTS; k++)
			printf("%s %s %" PRIu64, k ? "," : "", sim_kill_point_name(k), kills[k]);
		printf("\n");
	}
	if (json) {
		printf("{\"model\":\"%s\",\"systems\":%zu,\"faults\":\"%s\",\"seed\":%" PRIu64
		       ",\"runs\":%" PRIu64 ",\"converged\":%" PRIu64 ",\"lost_updates\":%" PRIu64
		       ",\"duplicates\":%" PRIu64 ",\"duplicate_comments\":%" PRIu64
		       ",\"oscillations\":%" PRIu64 ",\"loop_writes\":%" PRIu64
		       ",\"quiet_writes\":%" PRIu64 ",\"writes\":%" PRIu64
		       ",\"genuine_changes\":%" PRIu64 ",\"writes_per_change\":%.4f"
		       ",\"api_calls\":%" PRIu64 ",\"api_calls_per_change\":%.4f"
		       ",\"crashes\":%" PRIu64 ",\"parked\":%" PRIu64 ",\"resolved\":%" PRIu64
		       ",\"parked_writes\":%" PRIu64,
		       model, opt.nsystems, faults, first, runs, converged, lost, dups, dupc, osc, loops,
		       quiet, writes, genuine, ratio(writes, genuine), api, ratio(api, genuine), crashes,
		       parked, resolved, parked_writes);
		if (opt.model == SIM_MODEL_PROCESS) {
			printf(",\"kills_total\":%" PRIu64 ",\"kills\":{", kills_total);
			for (int k = 0; k < SIM_KILL_POINTS; k++)
				printf("%s\"%s\":%" PRIu64, k ? "," : "", sim_kill_point_name(k), kills[k]);
			printf("}");
		}
		printf(",\"failed_seeds\":[");
		for (size_t i = 0; i < nfailed; i++)
			printf("%s%" PRIu64, i ? "," : "", failed[i]);
		printf("]}\n");
	}
	free(failed);
	return nfailed && opt.model != SIM_MODEL_DUAL ? 1 : 0;
}
