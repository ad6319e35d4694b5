/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowctl policy: check a policy file offline, or load one into a running
 * flowd over its socket (the "policy_load" request, flowd/enrich.h).
 */
#include "cli.h"

#include "api_client.h"
#include "identity.h"
#include "policy.h"
#include "policy_bpf.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char policy_help[] =
"NAME\n"
"    flowctl policy - check a policy file, or load one into a running flowd\n"
"\n"
"SYNOPSIS\n"
"    flowctl policy check FILE [--identities FILE]\n"
"    flowctl policy load FILE [--socket PATH]\n"
"\n"
"DESCRIPTION\n"
"    check: reads FILE as flowd does (YAML, README \"Policy\"), strictly, and\n"
"    compiles it for the kernel's maps with the identities file (none: only\n"
"    this machine's addresses as host). Prints every problem as\n"
"    FILE:LINE:COLUMN: message, or one line saying what the policy is. No\n"
"    privileges and no flowd needed.\n"
"\n"
"    load: checks FILE the same way, then asks the flowd listening on the\n"
"    socket to make it its policy (and to read its identities file again).\n"
"    flowd compiles it into the datapath's idle map set and switches in one\n"
"    step; if anything is wrong (also a policy too large for the maps) the\n"
"    running policy stays, and the problems are printed. Flows are judged\n"
"    again by the new policy at their next packet. A later SIGHUP reloads\n"
"    this file. Only root (or the user flowd runs as) may load a policy.\n"
"\n"
"OPTIONS\n"
"    --identities FILE\n"
"        check: the identities file the policy's selectors are resolved with.\n"
"    --socket PATH\n"
"        load: flowd's socket (default " FLOWD_DEFAULT_SOCKET ").\n"
"    -h, --help\n"
"        This text.\n"
"\n"
"EXIT STATUS\n"
"    0  valid (check), loaded (load).  1  invalid, refused, or flowd could not\n"
"    be reached.  2  bad option.\n"
"\n"
"EXAMPLES\n"
"    flowctl policy check policy.yaml --identities ids.yaml\n"
"    sudo flowctl policy load policy.yaml\n";

#define usage_error(...) cli_usage_error("policy", __VA_ARGS__)

/* Each line of a multi-line message, prefixed. */
static void print_lines(const char *prefix, const char *msg)
{
	for (const char *l = msg; *l;) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		if (n)
			fprintf(stderr, "%s%.*s\n", prefix, (int)n, l);
		l += n + (nl ? 1 : 0);
	}
}

/* Parse and compile: 0 and a summary on stdout, or 1 with the problems. */
static int check(const char *file, const char *ids_file, bool quiet)
{
	static char err[16384];
	const struct identity_opts io = { .detect_host = true };
	struct identity_db *ids = ids_file ? identity_db_load_file(ids_file, &io, err, sizeof(err))
	                                   : identity_db_default(&io, err, sizeof(err));
	if (!ids) {
		print_lines("flowctl policy: ", err);
		return 1;
	}
	struct policy *p = policy_load_file(file, err, sizeof(err));
	if (!p) {
		print_lines("flowctl policy: ", err);
		identity_db_unref(ids);
		return 1;
	}
	struct policy_compiled *c = policy_compile(p, ids, NULL, err, sizeof(err));
	int rc = 0;
	if (!c) {
		fprintf(stderr, "flowctl policy: %s: %s\n", file, err);
		rc = 1;
	} else if (!quiet) {
		struct policy_compile_stats st;
		policy_compiled_stats(c, &st);
		printf("%s: valid: %s mode, default %s, %zu rules; %zu address and %zu rule entries in the "
		       "kernel maps (at most %d and %d)\n",
		       file, policy_mode(p) == POLICY_ENFORCE ? "enforce" : "audit",
		       policy_default_action(p) == POLICY_DENY ? "deny" : "allow", policy_rule_count(p),
		       st.addr_entries, st.rule_entries, POLICY_ADDR_MAX_ENTRIES, POLICY_RULE_MAX_ENTRIES);
	}
	policy_compiled_free(c);
	policy_unref(p);
	identity_db_unref(ids);
	return rc;
}

static int load(const char *file, const char *socket_path)
{
	char abs[PATH_MAX];
	if (!realpath(file, abs)) {
		fprintf(stderr, "flowctl policy: %s: %s\n", file, strerror(errno));
		return 1;
	}
	/* the file's own problems are found here, without bothering flowd */
	static char err[16384];
	struct policy *p = policy_load_file(abs, err, sizeof(err));
	if (!p) {
		print_lines("flowctl policy: ", err);
		return 1;
	}
	policy_unref(p);
	json_t *req = json_pack("{s:s,s:s}", "request", "policy_load", "file", abs);
	char *txt = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!txt) {
		fprintf(stderr, "flowctl policy: out of memory\n");
		return 1;
	}
	struct api_conn c;
	int rc = api_connect(&c, socket_path, txt, err, sizeof(err));
	free(txt);
	if (rc) {
		fprintf(stderr, "flowctl policy: %s\n", err);
		return 1;
	}
	char *line;
	size_t len;
	if (api_read_line(&c, &line, &len) <= 0) {
		fprintf(stderr, "flowctl policy: no answer from flowd at %s\n", socket_path);
		api_close(&c);
		return 1;
	}
	rc = 0;
	if (api_error_line(line, err, sizeof(err))) {
		fprintf(stderr, "flowctl policy: flowd refused the policy, the running one stays:\n");
		print_lines("flowctl policy:   ", err);
		rc = 1;
	} else {
		json_t *a = json_loadb(line, len, 0, NULL);
		const char *rev = json_string_value(json_object_get(a, "revision"));
		const char *mode = json_string_value(json_object_get(a, "mode"));
		if (!rev || !mode) {
			fprintf(stderr, "flowctl policy: unexpected answer from flowd: %s\n", line);
			rc = 1;
		} else {
			printf("%s: loaded by flowd (revision %s, %s mode, %lld rules)\n", abs, rev, mode,
			       (long long)json_integer_value(json_object_get(a, "rules")));
		}
		json_decref(a);
	}
	api_close(&c);
	return rc;
}

int cmd_policy(int argc, char **argv)
{
	const char *verb = NULL, *file = NULL, *ids = NULL, *sock = FLOWD_DEFAULT_SOCKET;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(policy_help, stdout);
			return 0;
		}
		if (!strcmp(a, "--identities") || !strcmp(a, "--socket")) {
			if (i + 1 >= argc)
				return usage_error("%s needs a value", a);
			*(!strcmp(a, "--socket") ? &sock : &ids) = argv[++i];
		} else if (!strncmp(a, "--identities=", 13)) {
			ids = a + 13;
		} else if (!strncmp(a, "--socket=", 9)) {
			sock = a + 9;
		} else if (a[0] == '-' && a[1]) {
			return usage_error("unknown option \"%s\"", a);
		} else if (!verb) {
			verb = a;
		} else if (!file) {
			file = a;
		} else {
			return usage_error("unexpected argument \"%s\"", a);
		}
	}
	if (!verb)
		return usage_error("%s", "check or load?");
	if (strcmp(verb, "check") && strcmp(verb, "load"))
		return usage_error("unknown command \"%s\" (check, load)", verb);
	if (!file)
		return usage_error("%s", "no policy file given");
	if (!strcmp(verb, "check"))
		return check(file, ids, false);
	if (ids)
		return usage_error("%s", "--identities is for check (flowd loads its own)");
	return load(file, sock);
}
