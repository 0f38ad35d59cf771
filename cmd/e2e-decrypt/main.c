/*
 * e2e-decrypt - check and decrypt a message made by e2e-encrypt (or by
 * the original E2E Chat client), or each message of a stream of
 * e2e-recv's record lines.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cli.h"
#include "base/config.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/home.h"
#include "base/jsonio.h"
#include "base/opool.h"
#include "base/term.h"
#include "format/crypto.h"
#include "format/jwk.h"
#include "format/keyfile.h"
#include "format/message.h"
#include "format/records.h"
#include "keys/contacts.h"
#include "keys/myname.h"
#include "keys/prekeys.h"
#include "keys/stream.h"

/* The most --fs-grace: ten years. */
#define FS_GRACE_MAX (10LL * 366 * 24 * 3600)

/* Forward secrecy: the private prekeys of the home's store. */
struct fs_state {
	char home[HOME_PATH_MAX];
	int have_home;
	int64_t grace;
	struct prekeys *p;
	struct prekeys_view view;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: e2e-decrypt -i PRIVKEY [--verify PUBKEY] [-o OUT] "
	    "[FILE]\n"
	    "       e2e-decrypt -i PRIVKEY [--verify PUBKEY] [--stream] "
	    "[--as NAME]\n"
	    "                   [--threads N] [FILE]\n"
	    "\n"
	    "Reads one envelope (a JWE from e2e-encrypt, or the original "
	    "seed format)\n"
	    "from FILE or standard input, checks it and writes the plaintext "
	    "to OUT or\n"
	    "standard output. Nothing is written unless every check passed.\n"
	    "The text of a seed message is Latin-1: it is written as UTF-8.\n"
	    "\n"
	    "Stream mode: when the first line is a record of e2e-recv\n"
	    "({\"id\",\"from\",\"sent_at\",\"message\",...}), or with "
	    "--stream, each line is a\n"
	    "record: each is decrypted as soon as its line has arrived and "
	    "printed as one\n"
	    "JSON line {\"id\",\"from\",\"sent_at\",\"format\","
	    "\"signed_by\",\"verified\",\"text\"}\n"
	    "(\"data\", base64, instead of \"text\" when the plaintext is "
	    "not UTF-8 text).\n"
	    "A record that fails is reported on standard error with its id, "
	    "and the\n"
	    "others go on; the exit status is then 65. --verify applies to "
	    "every record.\n"
	    "\"verified\" is true only for a message signed by a key pinned "
	    "for its sender\n"
	    "(or by the --verify key) whose signed names, if any, say that "
	    "sender wrote\n"
	    "it for you; a \"warning\" says why not, or that no names are "
	    "signed.\n"
	    "\n"
	    "  -i, --identity PRIVKEY   your private key file\n"
	    "      --verify PUBKEY      require a valid signature by this "
	    "public key file,\n"
	    "                           or by a contact NAME's keys (and NAME "
	    "as signed)\n"
	    "  -o, --output OUT         write the plaintext to OUT (mode "
	    "0600; not in\n"
	    "                           stream mode: redirect standard output)\n"
	    "  -f, --force              overwrite OUT even if it holds a private "
	    "key\n"
	    "      --stream             the input is a stream of records, even "
	    "if empty\n"
	    "      --as NAME            your account name, when neither the "
	    "session\n"
	    "                           nor the config file's name = NAME "
	    "says it\n"
	    "      --threads N          stream mode: decrypt up to N records "
	    "at once, on N\n"
	    "                           threads, still printed in input order "
	    "(1 to %d;\n"
	    "                           default: the cores this process may "
	    "use); one\n"
	    "                           envelope ignores it\n"
	    "      --fs-grace DURATION  keep a one-time prekey this long after "
	    "its message\n"
	    "                           was shown, then erase it (0, 90s, "
	    "12h, 7d;\n"
	    "                           default: fs_grace = of the config "
	    "file, else 7d)\n"
	    "      --binary             a seed message's plaintext as decrypted, "
	    "not as UTF-8\n"
	    "      --passphrase-file FILE\n"
	    "                           passphrase of a protected PRIVKEY "
	    "(else\n"
	    "                           E2E_PASSPHRASE, else the terminal)\n"
	    "      --max-size SIZE      refuse a larger envelope or record line "
	    "(default\n"
	    "                           256M, at most 1G; from a file to -o "
	    "OUT, 64G:\n"
	    "                           the envelope streams, signed or not)\n"
	    "  -h, --help               show this help\n"
	    "  -V, --version            show the version\n"
	    "\n%s\n"
	    "Examples:\n"
	    "  e2e-decrypt -i me.key --verify alice.pub < msg.jwe\n"
	    "  e2e-recv --follow | e2e-decrypt -i me.key --verify alice.pub\n"
	    "  (a jq -r reader must filter control characters: see README)\n",
	    OPOOL_THREADS_MAX, err_exit_codes_help);
}

/*
 * The prekeys of the identity kid: the store's expired entries swept
 * first, then read (no store: none). The grace is --fs-grace, else the
 * config file's fs_grace, else 7 days. Returns 0 or an exit code (in
 * rep).
 */
static int
fs_setup(struct fs_state *fs, const char *kid, int grace_given,
    struct report *rep)
{
	struct config cfg;
	char path[HOME_PATH_MAX];
	long long g = 0;
	int rc;

	if (home_find(fs->home, sizeof(fs->home), rep) != 0) {
		/* No home, so no prekeys: RSA entries only. */
		report_clear(rep);
		return 0;
	}
	fs->have_home = 1;
	if (!grace_given) {
		if ((rc = config_load(fs->home, &cfg, rep)) != 0)
			return rc;
		rc = cfg.fs_grace == NULL ? 0 : cli_parse_duration("fs_grace "
		    "(config file)", cfg.fs_grace, FS_GRACE_MAX, &g, rep);
		fs->grace = cfg.fs_grace == NULL ? PREKEYS_GRACE_DEFAULT : g;
		config_free(&cfg);
		if (rc != 0)
			return E2E_EX_CONFIG;
	}
	/* No store (no prekeys made here): nothing to read or sweep. */
	if ((rc = home_file(fs->home, "prekeys.json", path, sizeof(path),
	    rep)) != 0)
		return rc;
	if (access(path, F_OK) != 0)
		return 0;
	if ((rc = prekeys_sweep_file(fs->home, crypto_now(), fs->grace,
	    rep)) != 0 || (rc = prekeys_open(fs->home, 0, &fs->p, rep)) != 0)
		return rc;
	fs->view.p = fs->p;
	fs->view.ikid = kid;
	return 0;
}

/* A message was shown: its one-time prekey is marked used, and erased
 * once the grace has passed (at once for 0). */
static int
fs_shown(const struct message *m, void *arg, struct report *rep)
{
	struct fs_state *fs = arg;

	if (m->fs != JWE_FS_ONE_TIME || !fs->have_home)
		return 0;
	return prekeys_used(fs->home, m->fs_pkid, crypto_now(), fs->grace,
	    rep);
}

static int
stream_refuses_output(void)
{
	err_error("-o cannot be used with a stream of records");
	err_hint("redirect standard output instead: e2e-decrypt -i PRIVKEY "
	    "< RECORDS > OUT");
	return E2E_EX_USAGE;
}

/* A record's error or warning, shown before the next output line. */
static void
show_record_report(const struct report *r, void *arg)
{
	(void)arg;
	err_print(r);
}

int
main(int argc, char **argv)
{
	static const char shortopts[] = ":i:o:fhV";
	static const struct option longopts[] = {
		{ "identity", required_argument, NULL, 'i' },
		{ "verify", required_argument, NULL, 'v' },
		{ "output", required_argument, NULL, 'o' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "max-size", required_argument, NULL, 'M' },
		{ "force", no_argument, NULL, 'f' },
		{ "stream", no_argument, NULL, 'S' },
		{ "as", required_argument, NULL, 'A' },
		{ "binary", no_argument, NULL, 'B' },
		{ "threads", required_argument, NULL, 'T' },
		{ "fs-grace", required_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *key_path = NULL, *verify_path = NULL, *out_path = NULL;
	const char *as = NULL;
	char me[NAME_LEN_MAX + 1];
	enum myname_source me_src = MYNAME_NONE;
	struct passphrase_src ps = { NULL, NULL };
	struct open_opts oo;
	static struct fs_state fs;
	struct stream_opts so = { .open = &oo, .fd = STDOUT_FILENO,
		.said = show_record_report, .shown = fs_shown,
		.shown_arg = &fs };
	struct message m;
	struct record_reader in;
	struct outfile out = OUTFILE_INIT;
	struct infile fin;
	struct report rep = { 0 }, quiet = { 0 };
	EVP_PKEY *key = NULL;
	struct contact signer;
	char kid[KID_SIZE], identity[HOME_PATH_MAX];
	char signer_what[128];
	size_t max = FILEIO_DEFAULT_MAX;
	int c, rc, seen_i = 0, seen_v = 0, seen_o = 0, seen_P = 0, seen_M = 0;
	int seen_A = 0, seen_T = 0, seen_G = 0;
	long long grace = 0;
	unsigned long long threads = 0;
	int force = 0, stream = 0, binary = 0, first;
	const uint8_t *text;
	const char *line = NULL;
	size_t len = 0;

	cli_start(argv[0]);
	/* The session file, read for my name (lib/keys/myname.h), holds a
	 * token: what jansson frees is wiped. Before any other jansson call. */
	jsonio_wipe_on_free();
	memset(&m, 0, sizeof(m));
	memset(&signer, 0, sizeof(signer));
	memset(&in, 0, sizeof(in));
	in.fd = -1;
	memset(&fin, 0, sizeof(fin));
	fin.fd = -1;
	in.is_std = 1;
	if ((rc = cli_options(argc, argv, shortopts, longopts, &rep)) != 0)
		return err_print(&rep);
	while ((c = getopt_long(argc, argv, shortopts, longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'i':
			if (cli_once(&seen_i, "-i", &rep) != 0)
				return err_print(&rep);
			key_path = optarg;
			break;
		case 'v':
			if (cli_once(&seen_v, "--verify", &rep) != 0)
				return err_print(&rep);
			verify_path = optarg;
			break;
		case 'o':
			if (cli_once(&seen_o, "-o", &rep) != 0)
				return err_print(&rep);
			out_path = optarg;
			break;
		case 'P':
			if (cli_once(&seen_P, "--passphrase-file", &rep) != 0)
				return err_print(&rep);
			ps.file = optarg;
			break;
		case 'M':
			if (cli_max_size(&seen_M, optarg, &max, &rep) != 0)
				return err_print(&rep);
			break;
		case 'f':
			force = 1;
			break;
		case 'S':
			stream = 1;
			break;
		case 'A':
			if (cli_once(&seen_A, "--as", &rep) != 0)
				return err_print(&rep);
			as = optarg;
			break;
		case 'B':
			binary = 1;
			break;
		case 'T':
			if (cli_once(&seen_T, "--threads", &rep) != 0 ||
			    cli_parse_number("--threads", optarg, 1,
			    OPOOL_THREADS_MAX, &threads, &rep) != 0)
				return err_print(&rep);
			break;
		case 'G':
			if (cli_once(&seen_G, "--fs-grace", &rep) != 0 ||
			    cli_parse_duration("--fs-grace", optarg,
			    FS_GRACE_MAX, &grace, &rep) != 0)
				return err_print(&rep);
			fs.grace = grace;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			cli_version();
			return 0;
		default:
			cli_bad_option(c, argv, &rep);
			return err_print(&rep);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		return err_print(cli_usage_error(&rep,
		    "more than one input FILE"));
	if (key_path == NULL) {
		/* The identity of the client's config file. */
		rc = config_identity_path(identity, sizeof(identity), &rep);
		if (rc > 0)
			return err_print(&rep);
		if (rc < 0) {
			err_error("no private key");
			err_hint("give your private key with -i PRIVKEY");
			err_hint("or name it once in the client's config "
			    "file: identity = PATH");
			return E2E_EX_USAGE;
		}
		key_path = identity;
	}
	if (stream && out_path != NULL)
		return stream_refuses_output();
	/* Who I am, for stream mode's check that a message names me among
	 * its recipients; --as is checked against the session at once. */
	me[0] = '\0';
	if (as != NULL) {
		rc = myname_find(as, "--as", me, &me_src, &rep);
		err_print(&rep);
		report_clear(&rep);
		if (rc != 0)
			return rc;
	}
	{
		const char *names[] = { "-i", "--verify", "--passphrase-file",
			"the message" };
		const char *paths[] = { key_path, verify_path, ps.file,
			argc == 1 ? argv[0] : "-" };

		if (cli_one_stdin(names, paths, 4, &rep) != 0)
			return err_print(&rep);
	}

	/* A seed message's Latin-1 is shown as UTF-8, unless --binary. */
	so.seed_utf8 = !binary;
	if ((rc = crypto_init(&rep)) != 0)
		return err_print(&rep);
	if ((rc = keyfile_load_private(key_path, &ps, &key, &rep)) != 0 ||
	    (rc = jwk_thumbprint(key, kid, &rep)) != 0)
		goto out;
	/* A warning about the key file comes before anything else. */
	err_print(&rep);
	report_clear(&rep);
	memset(&oo, 0, sizeof(oo));
	oo.key = key;
	oo.kid = kid;
	if ((rc = fs_setup(&fs, kid, seen_G, &rep)) != 0)
		goto out;
	oo.prekey = prekeys_lookup;
	oo.prekey_arg = &fs.view;
	if (fs.p == NULL)
		oo.prekey = NULL;
	if (verify_path != NULL && (rc = contact_resolve(verify_path,
	    CONTACT_REFRESH, &signer, &rep)) != 0)
		goto out;
	contact_verify_opts(&signer, &oo, signer_what, sizeof(signer_what));
	/*
	 * From a file to a file, an envelope streams: its plaintext goes to
	 * the output's temporary file, committed once every check passed
	 * (a signed message's too). Anything else (a pipe, a terminal, a
	 * record stream, a seed message) is read whole, within --max-size.
	 */
	if (!stream && argc == 1 && out_path != NULL &&
	    !file_is_std(out_path) && infile_open(&fin, argv[0],
	    seen_M ? max : FILEIO_STREAM_ENVELOPE_MAX, "input", &quiet) == 0 &&
	    fin.regular) {
		if ((rc = outfile_open(&out, out_path, 0600, 1, &rep)) != 0)
			goto out;
		rc = out.direct ? MESSAGE_OPEN_WHOLE : message_open_file(&oo,
		    &fin, &out, &m, &rep);
		if (rc == 0 && (rc = outfile_commit(&out, force ? -1 : 0,
		    &rep)) == 0) {
			message_report(&m, &rep);
			rc = fs_shown(&m, &fs, &rep);
		}
		if (rc != MESSAGE_OPEN_WHOLE)
			goto out;
	}
	/* infile_open's refusals are made again below, in their words. */
	report_clear(&quiet);
	infile_close(&fin);
	if ((rc = record_reader_open(&in, argc == 1 ? argv[0] : NULL,
	    max, &rep)) != 0)
		goto out;
	/*
	 * The first line that is not blank says which mode: a record starts
	 * a stream; anything else is one envelope, read whole with what was
	 * read to find out (an envelope's first line is usually all of it).
	 */
	if (!stream) {
		in.keep = 1;
		first = record_read_line(&in, &line, &len);
		if (first == RECORD_READ_ERROR) {
			rc = in.rc;
			goto out;
		}
		stream = first == RECORD_READ_LINE && record_sniff(line, len);
		in.keep = 0;
		if (stream && out_path != NULL) {
			rc = stream_refuses_output();
			goto out;
		}
	}
	if (stream) {
		/* What was said so far, before the stream's lines. */
		err_print(&rep);
		report_clear(&rep);
		if (as == NULL && (rc = myname_find(NULL, "--as", me,
		    &me_src, &rep)) != 0)
			goto out;
		err_print(&rep);
		report_clear(&rep);
		so.me = me_src != MYNAME_NONE ? me : NULL;
		/* No control character may reach a terminal raw (term.h). */
		so.ascii = isatty(STDOUT_FILENO);
		so.threads = threads > 0 ? (unsigned)threads : opool_cores();
		rc = stream_decrypt(&in, &so, line, len, &rep);
		goto out;
	}
	if ((rc = record_read_all(&in, &text, &len)) != 0)
		goto out;
	if ((rc = message_open_text(&oo, text, len, &m, &rep)) != 0)
		goto out;
	if (!binary && (rc = message_seed_utf8(&m)) != 0) {
		report_oom(&rep);
		goto out;
	}
	if (out.fd < 0 && (rc = outfile_open(&out, out_path, 0600, 1,
	    &rep)) != 0)
		goto out;
	/* Escape sequences from a stranger must not reach a terminal,
	 * whatever name it was given by. */
	if (outfile_is_terminal(&out) && !term_safe_text(m.pt, m.pt_len)) {
		err_error("the plaintext is binary or holds control characters; "
		    "not writing it to a terminal");
		err_hint("write it to a file with -o OUT, or pipe it");
		rc = E2E_EX_CANTCREAT;
		goto out;
	}
	if ((rc = outfile_write(&out, m.pt, m.pt_len, &rep)) != 0 ||
	    (rc = outfile_commit(&out, force ? -1 : 0, &rep)) != 0)
		goto out;
	message_report(&m, &rep);
	rc = fs_shown(&m, &fs, &rep);
out:
	err_print(&rep);
	outfile_abort(&out);
	message_free(&m);
	EVP_PKEY_free(key);
	contact_free(&signer);
	prekeys_close(fs.p);
	record_reader_close(&in);
	infile_close(&fin);
	return rc;
}
