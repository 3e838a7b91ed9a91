/*
 * libFuzzer harness of the configuration loader: each input is the text
 * of a configuration file, given to cc_config_file_load_text() with
 * options that know the connector kinds "rt" and "redmine" and their
 * settings (a stand-in for src/config/registry_check.c, so that the
 * harness links the configuration library alone); a configuration that
 * loads is freed.
 *
 * Seeds: tests/fuzz/corpus/config/, dictionary: tests/fuzz/dict/config.dict.
 * Built by hand (not by meson), for example:
 *
 *   clang -fsanitize=fuzzer,address,undefined -Isrc tests/fuzz/fuzz_config.c \
 *       src/config/config_file.c src/config/schema.c src/config/walk.c \
 *       src/core/config.c src/core/policy.c src/core/policies/\*.c ... \
 *       $(pkg-config --cflags --libs libfyaml) -o /tmp/fuzz_config
 * (meson setup -Dfuzz=true builds it with every library it needs).
 *   /tmp/fuzz_config -max_total_time=60 tests/fuzz/corpus/config \
 *       -dict=tests/fuzz/dict/config.dict
 *
 * What an input may reach outside the process is kept small and the same
 * on every machine: the environment is emptied at start, then holds only
 * the variables below, so {env: NAME} finds CC_FUZZ_TOKEN, CC_FUZZ_URL and
 * nothing of the machine's. The inputs are named DIR/fuzz.yaml, DIR a
 * fresh folder that holds one small file, `token`, so a relative
 * {file: PATH} finds that file or nothing. An absolute {file: PATH} is
 * read as the loader reads any: regular files only (a FIFO or a device is
 * refused without a read, so nothing hangs), 64 KiB at most.
 *
 * One leak is hidden from LeakSanitizer: libfyaml 0.7.12 loses the chunk
 * list that it grows with realloc() while it formats a scalar made of many
 * pieces, such as a single-quoted scalar with twenty '' escapes (corpus
 * file libfyaml-leak-quotes.yaml). The leak is libfyaml's, a few KiB at
 * most per scalar and per load. The loader never calls realloc(), so
 * suppressing the leaks that realloc() allocated hides nothing of ours.
 */
#include "config/config_file.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

const char *__lsan_default_suppressions(void)
{
	return "leak:__interceptor_realloc\n";
}

static char name[300];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char dir[] = "/tmp/cc-fuzz-config-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("fuzz_config: mkdtemp");
		exit(1);
	}
	char path[300];
	snprintf(path, sizeof(path), "%s/token", dir);
	FILE *f = fopen(path, "w");
	if (!f || fputs("fuzz-file-token\n", f) < 0 || fclose(f) != 0) {
		perror("fuzz_config: token file");
		exit(1);
	}
	snprintf(name, sizeof(name), "%s/fuzz.yaml", dir);
	if (clearenv() != 0 || setenv("CC_FUZZ_TOKEN", "fuzz-env-token", 1) != 0 ||
	    setenv("CC_FUZZ_URL", "http://127.0.0.1:9/REST/2.0", 1) != 0) {
		perror("fuzz_config: environment");
		exit(1);
	}
	return 0;
}

/* The kinds and their settings, as the connector registry has them. */
static const char *const kinds[] = { "rt", "redmine", NULL };
static const char *const rt_settings[] = { "queue", "correlation_field", NULL };
static const char *const redmine_settings[] = { "project", "correlation_field", NULL };

static const char *const *settings_of(const char *kind)
{
	return !kind ? kinds : !strcmp(kind, "rt") ? rt_settings
	       : !strcmp(kind, "redmine") ? redmine_settings : NULL;
}

static int check_system(void *ctx, const char *kind, const char *const *keys, size_t n,
                        long *bad, char *err, size_t errlen)
{
	(void)ctx;
	const char *const *rows = settings_of(kind);
	if (!rows) {
		*bad = CC_CONFIG_BAD_KIND;
		snprintf(err, errlen, "kind '%s' is unknown (known: rt, redmine)", kind);
		return -1;
	}
	int project = 0;
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;
		while (rows[j] && strcmp(rows[j], keys[i]) != 0)
			j++;
		if (!rows[j]) {
			*bad = (long)i;
			snprintf(err, errlen, "setting '%s' is not one of %s's", keys[i], kind);
			return -1;
		}
		project |= !strcmp(keys[i], "project");
	}
	if (!strcmp(kind, "redmine") && !project) {
		*bad = CC_CONFIG_BAD_SYSTEM;
		snprintf(err, errlen, "redmine needs the setting 'project'");
		return -1;
	}
	return 0;
}

static size_t accepted(void *ctx, const char *kind, const char **names, size_t max)
{
	(void)ctx;
	size_t n = 0;
	for (const char *const *a = settings_of(kind); a && *a && n < max; a++)
		names[n++] = *a;
	return n;
}

static const struct cc_config_options options = {
	.check_system = check_system,
	.accepted = accepted,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cc_file_config *c = NULL;
	char err[1024];
	int rc = cc_config_file_load_text(&c, name, (const char *)data, size, &options, err,
	                                  sizeof(err));
	/* the contract: a configuration exactly when 0, a message otherwise */
	if ((rc == 0) != (c != NULL) || (rc != 0 && err[0] == '\0'))
		abort();
	cc_config_file_free(c);
	return 0;
}
