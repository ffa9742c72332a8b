/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The speurneus command line: a thin user of the library.
 *
 *   speurneus scan [OPTIONS] [PATH...]
 *   speurneus rules list|test [DIR...]
 *   speurneus key init -o FILE
 *
 * Exit codes (the contract in README.md): 0 complete and nothing at or above
 * --fail-on; 1 findings at or above it; 2 usage, rules or fatal error
 * (including a failed write of the report); 3 no such findings but something
 * could not be fully scanned (unless --allow-incomplete).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/progress.h"
#include "sink/sink.h"
#include "speurneus/error.h"
#include "speurneus/key.h"
#include "speurneus/rules.h"
#include "speurneus/scan.h"

#define EXIT_CLEAN 0
#define EXIT_FOUND 1
#define EXIT_FATAL 2
#define EXIT_INCOMPLETE 3

static volatile sig_atomic_t stop_flag;
/* The same for the --progress thread: a lock-free atomic is what another
 * thread may read of what a handler wrote. */
static atomic_int stop_seen;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "a signal handler may only store lock-free atomics");

static void on_signal(int sig)
{
	int e = errno;
	(void)sig;
	__atomic_store_n(&stop_flag, 1, __ATOMIC_RELAXED); /* read by the scan's threads */
	atomic_store_explicit(&stop_seen, 1, memory_order_relaxed);
	errno = e;
}

static const char *prog = "speurneus";

static void usage_main(FILE *f)
{
	fprintf(f,
		"Usage: %s COMMAND [OPTIONS]\n"
		"\n"
		"Find Dutch personal data (BSN, IBAN, phone numbers, e-mail addresses,\n"
		"postcodes) in files, directories and standard input.\n"
		"\n"
		"Commands:\n"
		"  scan [OPTIONS] [PATH...]   scan files and directories ('-' = stdin; default .)\n"
		"  rules list [--rules DIR]   list the loaded rules and how each is anchored\n"
		"  rules test [DIR...]        run every rule's examples; nonzero on a failure\n"
		"  key init -o FILE           create an organisation fingerprint key (mode 0600)\n"
		"  help, --help               this text ('%s scan --help' for scan options)\n"
		"  version, --version         print the version\n"
		"\n"
		"Exit codes: 0 clean and complete; 1 findings at or above --fail-on;\n"
		"2 usage, rules or fatal error; 3 nothing found but something could not be\n"
		"fully scanned (see the 'file' records).\n",
		prog, prog);
}

static void usage_scan(FILE *f)
{
	fprintf(f,
		"Usage: %s scan [OPTIONS] [PATH...]\n"
		"\n"
		"Scan files and directories (default: .) for personal data. '-' reads\n"
		"standard input. Values are masked in every output format unless --reveal.\n"
		"\n"
		"Output:\n"
		"  --format text|json|ndjson  output format (default text); json and ndjson\n"
		"                             are the documented, versioned record contract\n"
		"  -o, --output FILE          write the report to FILE (created 0600, written\n"
		"                             to a temporary file and renamed when complete)\n"
		"  --min-confidence LEVEL     report findings at or above LEVEL: low, medium,\n"
		"                             high (default medium); lower ones are counted\n"
		"  --fail-on LEVEL            exit 1 when a reported finding is at or above\n"
		"                             LEVEL (default medium); 'never' disables\n"
		"  --reveal                   show raw values and add normalized values (the\n"
		"                             report then holds personal data: handle it so)\n"
		"  --sort path                deterministic order (holds records in memory)\n"
		"  --color auto|always|never  colour in text output (default auto: on a TTY)\n"
		"  --allow-incomplete         exit 0 instead of 3 when something could not be\n"
		"                             fully read (the records still list it)\n"
		"  --progress                 a status line on stderr while scanning: files,\n"
		"                             bytes, MB/s, findings, the path being read, and\n"
		"                             an ETA when the input's size is known; only\n"
		"                             when stderr is a terminal (else ignored)\n"
		"\n"
		"Walking:\n"
		"  -j, --threads N            worker threads (default: online CPUs)\n"
		"  --follow                   follow symbolic links (loop-safe)\n"
		"  --one-file-system          do not descend into other file systems\n"
		"  --exclude GLOB             leave out paths matching GLOB (gitignore syntax,\n"
		"                             repeatable); .speurneusignore files always apply\n"
		"  --respect-gitignore        also honour .gitignore files (off by default:\n"
		"                             ignored dumps and exports are where data hides)\n"
		"  --max-filesize SIZE        skip files larger than SIZE (K, M, G suffixes);\n"
		"                             no limit by default\n"
		"\n"
		"Archives and compressed files (gzip, bzip2, xz, zstd, lz4, .Z; zip, tar,\n"
		"7z, cpio, ar, ISO 9660) and documents (docx, xlsx, pptx, odt, ods, odp,\n"
		"PDF, eml, mbox, SQLite) are read inside, nested; legacy .doc/.xls/.msg/.pst\n"
		"and encrypted files are 'incomplete'; a limit reached is an 'incomplete'\n"
		"record with the limit's name as reason:\n"
		"  --max-nesting N            containers inside containers (default 8)\n"
		"  --max-ratio N              decompressed : compressed bytes, per member and\n"
		"                             per file, judged after 16 MiB (default 200;\n"
		"                             0 = off); what stops compression bombs\n"
		"  --max-member-size SIZE     bytes one member may produce (default 64G)\n"
		"  --max-total-size SIZE      bytes one file may produce in all (default 1T)\n"
		"  --max-entries N            entries in one file, all levels (default 1000000)\n"
		"  --max-buffer SIZE          a nested zip, 7z, PDF, office file or database\n"
		"                             is held in memory up to SIZE (default 256M)\n"
		"  --max-time SECONDS         per top-level file (default 7200; 0 = none)\n"
		"\n"
		"Rules and keys:\n"
		"  --rules DIR                use the rules in DIR instead of the shipped ones\n"
		"                             (repeatable)\n"
		"  --extra-rules DIR          add the rules in DIR to the shipped ones\n"
		"  --key-file FILE            fingerprint key (default: $SPEURNEUS_KEY_FILE, else\n"
		"                             a per-user key in ~/.config/speurneus/key)\n"
		"  --slow-path                run every pattern over every byte (for checking\n"
		"                             the fast path; same findings, slower)\n"
		"  -q, --quiet                no warnings on stderr\n"
		"\n"
		"Exit codes: 0 clean and complete; 1 findings at or above --fail-on;\n"
		"2 usage, rules or output error; 3 nothing found but something could not be\n"
		"fully scanned.\n",
		prog);
}

static const char *shipped_rules_dir(void)
{
	static char buf[PATH_MAX];
	char exe[PATH_MAX];
	const char *env = getenv("SPEURNEUS_RULES_DIR");
	struct stat st;
	if (env && *env)
		return env;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			int k = snprintf(buf, sizeof buf, "%s/../share/speurneus/rules", exe);
			if (k > 0 && (size_t)k < sizeof buf && stat(buf, &st) == 0 &&
			    S_ISDIR(st.st_mode))
				return buf;
		}
	}
	if (stat(SN_INSTALL_RULES_DIR, &st) == 0 && S_ISDIR(st.st_mode))
		return SN_INSTALL_RULES_DIR;
	return SN_SOURCE_RULES_DIR;
}

static void diag(const char *file, unsigned line, unsigned col, const char *msg, void *payload)
{
	(void)payload;
	if (line)
		fprintf(stderr, "%s:%u:%u: %s\n", file, line, col, msg);
	else
		fprintf(stderr, "%s: %s\n", file, msg);
}

typedef struct strv {
	const char **v;
	size_t n, cap;
} strv;

static int strv_push(strv *s, const char *x)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		const char **v = realloc(s->v, cap * sizeof *v);
		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = x;
	return 0;
}

static int load_rules(sn_ruleset **out, strv *rules, strv *extra)
{
	strv dirs = { 0 };
	const char *shipped = shipped_rules_dir();
	char data[PATH_MAX];
	int rc;
	if (rules->n) {
		for (size_t i = 0; i < rules->n; i++)
			strv_push(&dirs, rules->v[i]);
	} else {
		strv_push(&dirs, shipped);
	}
	for (size_t i = 0; i < extra->n; i++)
		strv_push(&dirs, extra->v[i]);
	if ((size_t)snprintf(data, sizeof data, "%s/data", shipped) >= sizeof data) {
		free(dirs.v);
		fprintf(stderr, "%s: rules directory path too long\n", prog);
		return SN_EINVAL;
	}
	rc = sn_ruleset_load(out, dirs.v, dirs.n, data, diag, NULL);
	free(dirs.v);
	if (rc < 0)
		fprintf(stderr, "%s: the rule set could not be loaded%s%s\n", prog,
			*sn_error_last() ? ": " : "", sn_error_last());
	return rc;
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	uint64_t mul = 1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mul = 1024ull; end++; break;
	case 'm': case 'M': mul = 1024ull * 1024; end++; break;
	case 'g': case 'G': mul = 1024ull * 1024 * 1024; end++; break;
	case 't': case 'T': mul = 1024ull * 1024 * 1024 * 1024; end++; break;
	default: return -1;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

typedef struct test_tally {
	size_t passed, failed;
} test_tally;

/* Examples are the rule authors' own test vectors, so showing a failing one
 * is how the author finds it. */
static void on_example(const sn_example_result *r, void *payload)
{
	test_tally *t = payload;
	if (r->passed) {
		t->passed++;
		return;
	}
	t->failed++;
	printf("FAIL %s %s \"%s\": %s\n", r->rule_id, r->expect_match ? "match" : "no_match",
	       r->text, r->why ? r->why : "");
}

static int cmd_rules(int argc, char **argv)
{
	strv rules = { 0 }, extra = { 0 };
	sn_ruleset *rs = NULL;
	int rc = EXIT_FATAL;
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fprintf(argc < 2 ? stderr : stdout,
			"Usage: %s rules list [--rules DIR]... [--extra-rules DIR]...\n"
			"       %s rules test [DIR...]\n"
			"'rules test' runs every rule's examples (default: the shipped rules)\n"
			"and exits 1 if any fails, 2 if the rules do not load.\n",
			prog, prog);
		return argc < 2 ? EXIT_FATAL : EXIT_CLEAN;
	}
	const char *sub = argv[1];
	for (int i = 2; i < argc; i++) {
		if ((strcmp(argv[i], "--rules") == 0 || strcmp(argv[i], "--extra-rules") == 0) &&
		    i + 1 < argc) {
			strv_push(argv[i][2] == 'r' ? &rules : &extra, argv[i + 1]);
			i++;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "%s: unknown option '%s' for rules %s\n", prog, argv[i], sub);
			goto done;
		} else {
			strv_push(&rules, argv[i]);
		}
	}
	if (load_rules(&rs, &rules, &extra) < 0)
		goto done;
	if (strcmp(sub, "list") == 0) {
		for (size_t i = 0; i < sn_ruleset_count(rs); i++) {
			sn_rule_info ri;
			sn_ruleset_info(rs, i, &ri);
			printf("%-22s %-10s %-8s prio %-3d %-10s %s\n", ri.id, ri.category,
			       sn_confidence_name(ri.base), ri.priority,
			       ri.validator ? ri.validator : "-", ri.anchor ? ri.anchor : "");
		}
		rc = EXIT_CLEAN;
	} else if (strcmp(sub, "test") == 0) {
		test_tally tally = { 0, 0 };
		int failed = sn_ruleset_test(rs, on_example, &tally);
		if (failed < 0) {
			fprintf(stderr, "%s: rules test failed to run: %s\n", prog, sn_error_last());
			goto done;
		}
		printf("%zu passed, %zu failed\n", tally.passed, tally.failed);
		rc = failed ? EXIT_FOUND : EXIT_CLEAN;
	} else {
		fprintf(stderr, "%s: unknown rules command '%s' (list, test)\n", prog, sub);
	}
done:
	sn_ruleset_free(rs);
	free(rules.v);
	free(extra.v);
	return rc;
}

static int cmd_key(int argc, char **argv)
{
	const char *out = NULL;
	if (argc >= 2 && strcmp(argv[1], "init") == 0) {
		for (int i = 2; i < argc; i++) {
			if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) &&
			    i + 1 < argc)
				out = argv[++i];
			else {
				fprintf(stderr, "%s: unknown argument '%s' for key init\n", prog,
					argv[i]);
				return EXIT_FATAL;
			}
		}
	}
	if (!out) {
		fprintf(stderr, "Usage: %s key init -o FILE\n"
				"Creates a random 32-byte fingerprint key (mode 0600). Deploy the same\n"
				"key to every scanning host and CI job so fingerprints match; guard it\n"
				"like a password: whoever holds it can test guesses against fingerprints.\n",
			prog);
		return EXIT_FATAL;
	}
	sn_key k;
	if (sn_crypto_init() < 0 || sn_key_create(&k, out) < 0) {
		fprintf(stderr, "%s: %s\n", prog, sn_error_last());
		return EXIT_FATAL;
	}
	printf("created %s (key_id %s)\n", out, k.id);
	return EXIT_CLEAN;
}

enum {
	OPT_FORMAT = 1000, OPT_MINCONF, OPT_FAILON, OPT_REVEAL, OPT_SORT, OPT_COLOR,
	OPT_ALLOW_INCOMPLETE, OPT_FOLLOW, OPT_ONE_FS, OPT_EXCLUDE, OPT_GITIGNORE,
	OPT_MAXSIZE, OPT_RULES, OPT_EXTRA_RULES, OPT_KEYFILE, OPT_SLOW, OPT_MAX_NESTING,
	OPT_MAX_BUFFER, OPT_MAX_MEMBER, OPT_MAX_TOTAL, OPT_MAX_RATIO, OPT_MAX_ENTRIES, OPT_MAX_TIME,
	OPT_PROGRESS
};

/* An unsigned number within [lo, hi]; 0 or -1. */
static int parse_uint(const char *s, unsigned long long lo, unsigned long long hi,
		      unsigned long long *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

/* Bytes the scan will read at the top level when every path is a regular
 * file or stdin redirected from one (what --progress measures an ETA
 * against); 0 when a directory or a pipe makes it unknown. */
static uint64_t input_total(const char *const *paths, size_t n)
{
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		int is_stdin = strcmp(paths[i], "-") == 0;
		if ((is_stdin ? fstat(STDIN_FILENO, &st) : stat(paths[i], &st)) != 0 ||
		    !S_ISREG(st.st_mode))
			return 0;
		off_t at = is_stdin ? lseek(STDIN_FILENO, 0, SEEK_CUR) : 0;
		if (at >= 0 && at < st.st_size)
			total += (uint64_t)(st.st_size - at);
	}
	return total;
}

static int cmd_scan(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "output", required_argument, NULL, 'o' },
		{ "min-confidence", required_argument, NULL, OPT_MINCONF },
		{ "fail-on", required_argument, NULL, OPT_FAILON },
		{ "reveal", no_argument, NULL, OPT_REVEAL },
		{ "sort", required_argument, NULL, OPT_SORT },
		{ "color", required_argument, NULL, OPT_COLOR },
		{ "colour", required_argument, NULL, OPT_COLOR },
		{ "allow-incomplete", no_argument, NULL, OPT_ALLOW_INCOMPLETE },
		{ "threads", required_argument, NULL, 'j' },
		{ "follow", no_argument, NULL, OPT_FOLLOW },
		{ "one-file-system", no_argument, NULL, OPT_ONE_FS },
		{ "exclude", required_argument, NULL, OPT_EXCLUDE },
		{ "respect-gitignore", no_argument, NULL, OPT_GITIGNORE },
		{ "max-filesize", required_argument, NULL, OPT_MAXSIZE },
		{ "rules", required_argument, NULL, OPT_RULES },
		{ "extra-rules", required_argument, NULL, OPT_EXTRA_RULES },
		{ "key-file", required_argument, NULL, OPT_KEYFILE },
		{ "slow-path", no_argument, NULL, OPT_SLOW },
		{ "max-nesting", required_argument, NULL, OPT_MAX_NESTING },
		{ "max-buffer", required_argument, NULL, OPT_MAX_BUFFER },
		{ "max-member-size", required_argument, NULL, OPT_MAX_MEMBER },
		{ "max-total-size", required_argument, NULL, OPT_MAX_TOTAL },
		{ "max-ratio", required_argument, NULL, OPT_MAX_RATIO },
		{ "max-entries", required_argument, NULL, OPT_MAX_ENTRIES },
		{ "max-time", required_argument, NULL, OPT_MAX_TIME },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	sn_scan_options so = SN_SCAN_OPTIONS_INIT;
	sn_sink_options ko = { 0 };
	strv rules = { 0 }, extra = { 0 }, excludes = { 0 };
	sn_ruleset *rs = NULL;
	sn_sink *sink = NULL;
	cli_progress *pg = NULL;
	const char *key_file = getenv("SPEURNEUS_KEY_FILE");
	sn_confidence fail_on = SN_CONF_MEDIUM;
	int fail_never = 0, allow_incomplete = 0, quiet = 0, color_mode = -1, progress = 0;
	int rc = EXIT_FATAL, opt;
	char *end;
	ko.format = SN_FMT_TEXT;
	ko.stream = stdout;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:j:qh", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_FORMAT:
			if (sn_format_parse(&ko.format, optarg) < 0) {
				fprintf(stderr, "%s: --format must be text, json or ndjson\n", prog);
				goto done;
			}
			break;
		case 'o': ko.path = optarg; break;
		case OPT_MINCONF:
			if (sn_confidence_parse(&so.min_confidence, optarg) < 0 ||
			    so.min_confidence == SN_CONF_NONE) {
				fprintf(stderr, "%s: --min-confidence must be low, medium or high\n",
					prog);
				goto done;
			}
			break;
		case OPT_FAILON:
			if (strcmp(optarg, "never") == 0)
				fail_never = 1;
			else if (sn_confidence_parse(&fail_on, optarg) < 0 || fail_on == SN_CONF_NONE) {
				fprintf(stderr, "%s: --fail-on must be low, medium, high or never\n",
					prog);
				goto done;
			}
			break;
		case OPT_REVEAL: so.reveal = 1; break;
		case OPT_SORT:
			if (strcmp(optarg, "path") != 0) {
				fprintf(stderr, "%s: --sort supports only 'path'\n", prog);
				goto done;
			}
			ko.sort_path = 1;
			break;
		case OPT_COLOR:
			if (strcmp(optarg, "auto") == 0)
				color_mode = -1;
			else if (strcmp(optarg, "always") == 0)
				color_mode = 1;
			else if (strcmp(optarg, "never") == 0)
				color_mode = 0;
			else {
				fprintf(stderr, "%s: --color must be auto, always or never\n", prog);
				goto done;
			}
			break;
		case OPT_ALLOW_INCOMPLETE: allow_incomplete = 1; break;
		case 'j': {
			errno = 0;
			unsigned long v = strtoul(optarg, &end, 10);
			if (errno || *end || v < 1 || v > 1024) {
				fprintf(stderr, "%s: -j needs a number from 1 to 1024\n", prog);
				goto done;
			}
			so.threads = (unsigned)v;
			break;
		}
		case OPT_FOLLOW: so.follow = 1; break;
		case OPT_ONE_FS: so.one_file_system = 1; break;
		case OPT_EXCLUDE: strv_push(&excludes, optarg); break;
		case OPT_GITIGNORE: so.respect_gitignore = 1; break;
		case OPT_MAXSIZE:
			if (parse_size(optarg, &so.max_filesize) < 0 || so.max_filesize == 0) {
				fprintf(stderr, "%s: --max-filesize needs a size such as 500M\n", prog);
				goto done;
			}
			break;
		case OPT_RULES: strv_push(&rules, optarg); break;
		case OPT_EXTRA_RULES: strv_push(&extra, optarg); break;
		case OPT_KEYFILE: key_file = optarg; break;
		case OPT_SLOW: so.slow_path = 1; break;
		case OPT_MAX_NESTING:
		case OPT_MAX_RATIO:
		case OPT_MAX_ENTRIES:
		case OPT_MAX_TIME: {
			unsigned long long v;
			unsigned long long hi = opt == OPT_MAX_NESTING ? 32 : opt == OPT_MAX_ENTRIES
									? UINT64_MAX
									: 1000000000ull;
			if (parse_uint(optarg, 0, hi, &v) < 0) {
				fprintf(stderr, "%s: --%s needs a number from 0 to %llu\n", prog,
					opt == OPT_MAX_NESTING ? "max-nesting" :
					opt == OPT_MAX_RATIO ? "max-ratio" :
					opt == OPT_MAX_ENTRIES ? "max-entries" : "max-time", hi);
				goto done;
			}
			if (opt == OPT_MAX_NESTING)
				so.limits.max_nesting = (unsigned)v;
			else if (opt == OPT_MAX_RATIO)
				so.limits.max_ratio = (unsigned)v;
			else if (opt == OPT_MAX_ENTRIES)
				so.limits.max_entries = v;
			else
				so.limits.max_time_s = (unsigned)v;
			break;
		}
		case OPT_MAX_BUFFER:
		case OPT_MAX_MEMBER:
		case OPT_MAX_TOTAL: {
			uint64_t v;
			if (parse_size(optarg, &v) < 0 || v == 0 ||
			    (opt == OPT_MAX_BUFFER && v > (4ull << 30))) {
				fprintf(stderr, "%s: --%s needs a size such as 512M%s\n", prog,
					opt == OPT_MAX_BUFFER ? "max-buffer" :
					opt == OPT_MAX_MEMBER ? "max-member-size" : "max-total-size",
					opt == OPT_MAX_BUFFER ? " (at most 4G)" : "");
				goto done;
			}
			if (opt == OPT_MAX_BUFFER)
				so.limits.max_buffer = v;
			else if (opt == OPT_MAX_MEMBER)
				so.limits.max_member_size = v;
			else
				so.limits.max_total_size = v;
			break;
		}
		case 'q': quiet = 1; break;
		case OPT_PROGRESS: progress = 1; break;
		case 'h':
			usage_scan(stdout);
			rc = EXIT_CLEAN;
			goto done;
		default:
			fprintf(stderr, "Try '%s scan --help'.\n", prog);
			goto done;
		}
	}
	strv paths = { 0 };
	for (int i = optind; i < argc; i++)
		strv_push(&paths, argv[i]);
	if (paths.n == 0)
		strv_push(&paths, ".");

	if (sn_crypto_init() < 0) {
		fprintf(stderr, "%s: libsodium could not be initialised\n", prog);
		goto done_paths;
	}
	sn_key key;
	if (key_file && *key_file) {
		int insecure = 0;
		if (sn_key_load(&key, key_file, &insecure) < 0) {
			fprintf(stderr, "%s: %s\n", prog, sn_error_last());
			goto done_paths;
		}
		if (insecure && !quiet)
			fprintf(stderr, "%s: warning: key file %s is readable by others; "
					"chmod 600 it\n", prog, key_file);
	} else {
		int created = 0;
		char kp[PATH_MAX];
		if (sn_key_load_or_create_default(&key, &created, kp, sizeof kp) < 0) {
			fprintf(stderr, "%s: no fingerprint key: %s (use --key-file)\n", prog,
				sn_error_last());
			goto done_paths;
		}
		if (!quiet)
			fprintf(stderr,
				"%s: warning: using the per-user key %s%s; its fingerprints will not "
				"match other hosts' (create a shared one with '%s key init -o FILE' "
				"and pass --key-file)\n",
				prog, kp, created ? " (just created)" : "", prog);
	}
	if (load_rules(&rs, &rules, &extra) < 0)
		goto done_paths;

	if (color_mode < 0)
		ko.color = ko.format == SN_FMT_TEXT && !ko.path && isatty(STDOUT_FILENO);
	else
		ko.color = color_mode;
	if (progress && cli_progress_new(&pg, input_total(paths.v, paths.n), &stop_seen) < 0) {
		fprintf(stderr, "%s: %s\n", prog, sn_error_last());
		goto done_paths;
	}
	if (pg && !ko.path && cli_progress_stream(pg))
		ko.stream = cli_progress_stream(pg); /* the report shares the terminal */
	if (sn_sink_open(&sink, &ko) < 0) {
		fprintf(stderr, "%s: cannot write the report: %s\n", prog, sn_error_last());
		goto done_paths;
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	char host[256] = "";
	gethostname(host, sizeof host - 1);
	so.paths = paths.v;
	so.npaths = paths.n;
	so.excludes = excludes.v;
	so.nexcludes = excludes.n;
	so.key = &key;
	so.rules = rs;
	so.stop = &stop_flag;
	so.progress = cli_progress_counters(pg);
	unsigned threads = so.threads ? so.threads : sn_scan_default_threads();
	sn_scan_header h = { SN_VERSION, sn_ruleset_digest(rs), key.id, host, paths.v, paths.n,
			     (double)time(NULL), threads,
			     sn_confidence_name(so.min_confidence), so.reveal };
	sn_sink_begin(sink, &h);
	sn_scan_result res;
	cli_progress_start(pg);
	int src = sn_scan_run(&so, sink, &res);
	cli_progress_stop(pg); /* the line is gone before the summary */
	sn_sink_end(sink, res.duration_s, res.interrupted);
	sn_sink_stats st;
	sn_sink_get_stats(sink, &st);
	int close_rc = sn_sink_close(sink, src == 0 && !st.write_failed);
	sink = NULL;

	if (src < 0) {
		fprintf(stderr, "%s: scan failed: %s\n", prog, sn_error_last());
		rc = EXIT_FATAL;
	} else if (st.write_failed || close_rc < 0) {
		fprintf(stderr, "%s: writing the report failed: %s\n", prog,
			strerror(st.write_errno ? st.write_errno : EIO));
		rc = EXIT_FATAL;
	} else {
		uint64_t failing = 0;
		if (!fail_never) {
			for (int c = fail_on; c <= SN_CONF_HIGH; c++)
				failing += st.findings_by_conf[c];
		}
		if (failing)
			rc = EXIT_FOUND;
		else if (res.interrupted)
			rc = EXIT_INCOMPLETE;
		else if ((st.incomplete || st.errors) && !allow_incomplete)
			rc = EXIT_INCOMPLETE;
		else
			rc = EXIT_CLEAN;
	}
done_paths:
	free(paths.v);
done:
	if (sink)
		sn_sink_close(sink, 0);
	cli_progress_free(pg); /* after the sink: it may own the report's stream */
	sn_ruleset_free(rs);
	free(rules.v);
	free(extra.v);
	free(excludes.v);
	return rc;
}

int main(int argc, char **argv)
{
	/* libarchive converts member names to the locale's charset: in the C
	 * locale a UTF-8 name such as "café.csv" cannot be represented. Only
	 * the character type is set; numbers and messages stay in C. */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "");
	if (argc < 2) {
		usage_main(stderr);
		return EXIT_FATAL;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "scan") == 0)
		return cmd_scan(argc - 1, argv + 1);
	if (strcmp(cmd, "rules") == 0)
		return cmd_rules(argc - 1, argv + 1);
	if (strcmp(cmd, "key") == 0)
		return cmd_key(argc - 1, argv + 1);
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage_main(stdout);
		return EXIT_CLEAN;
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("speurneus %s\n", SN_VERSION);
		return EXIT_CLEAN;
	}
	fprintf(stderr, "%s: unknown command '%s'\n", prog, cmd);
	usage_main(stderr);
	return EXIT_FATAL;
}
