/*
 * e2e-encrypt - encrypt (and sign) a message for one or more recipients.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/cli.h"
#include "base/config.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/home.h"
#include "base/jsonio.h"
#include "format/crypto.h"
#include "format/jwe.h"
#include "format/jwk.h"
#include "format/keyfile.h"
#include "format/message.h"
#include "format/seed.h"
#include "keys/contacts.h"
#include "keys/myname.h"
#include "keys/prekeys.h"

/* The seed format's plaintext is read whole: its cap keeps the old
 * default. A JWE streams: its cap is the format's (FORMAT.md section 6). */
#define SEED_MAX ((size_t)128 << 20)

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: e2e-encrypt -r PUBKEY [-r PUBKEY ...] [-s PRIVKEY] "
	    "[--from NAME]\n"
	    "                   [--enc ENC] [--format jwe|seed] [-o OUT] "
	    "[FILE]\n"
	    "                   [--prekey FILE ...] [--no-fs | --require-fs]\n"
	    "\n"
	    "Encrypts FILE (or standard input) for each recipient, and signs "
	    "it with\n"
	    "PRIVKEY when -s is given. Writes one envelope, a JWE on one "
	    "line, to OUT\n"
	    "(or standard output). A signature also carries your name and "
	    "the names of\n"
	    "the recipients given by name (-r NAME), when your name is known: "
	    "from the\n"
	    "signed-in session, else the config file's name = NAME, else "
	    "--from.\n"
	    "\n"
	    "  -r, --recipient PUBKEY   a recipient's public key file, or a "
	    "contact's\n"
	    "                           name (e2e-keys; repeatable, up to %d)\n"
	    "  -s, --sign PRIVKEY       sign with this private key (PS256); "
	    "default:\n"
	    "                           the identity of the client's config "
	    "file\n"
	    "      --no-sign            do not sign\n"
	    "      --from NAME          your account name, to sign, when "
	    "neither the\n"
	    "                           session nor the config file says it\n"
	    "      --enc ENC            A256CBC-HS512 (default) or A256GCM\n"
	    "      --prekey FILE        a claimed prekey record of a -r "
	    "recipient's key\n"
	    "                           ({\"name\",\"kid\",\"kind\","
	    "\"prekey\",\"pkid\"}): that key's\n"
	    "                           entry is ECDH-ES+A256KW to the "
	    "prekey, forward\n"
	    "                           secret (repeatable, one per key)\n"
	    "                           (a -r NAME's prekeys are claimed "
	    "by default:\n"
	    "                           e2e-keys claim)\n"
	    "      --no-fs              claim nothing, ignore --prekey: "
	    "RSA-OAEP-256 for\n"
	    "                           everyone\n"
	    "      --require-fs         refuse (exit 69) when a recipient's "
	    "key has no\n"
	    "                           prekey\n"
	    "      --format FORMAT      jwe (default), or seed: the original "
	    "E2E Chat format,\n"
	    "                           one recipient, unsigned, for the "
	    "original client;\n"
	    "                           its text is Latin-1: UTF-8 input is "
	    "converted\n"
	    "      --binary             with --format seed: encrypt the bytes "
	    "as they are\n"
	    "  -o, --output OUT         write the envelope to OUT\n"
	    "  -f, --force              overwrite OUT even if it holds a private "
	    "key\n"
	    "      --passphrase-file FILE\n"
	    "                           passphrase of a protected PRIVKEY "
	    "(else\n"
	    "                           E2E_PASSPHRASE, else the terminal)\n"
	    "      --max-size SIZE      refuse a larger plaintext (default "
	    "and most 32G;\n"
	    "                           128M with --format seed)\n"
	    "  -h, --help               show this help\n"
	    "  -V, --version            show the version\n"
	    "\n%s\n"
	    "Example:\n"
	    "  echo hi | e2e-encrypt -r bob.pub -s me.key > msg.jwe\n",
	    JWE_MAX_RECIPIENTS, err_exit_codes_help);
}

/* Whether a record of krec (n of them) is for name already. */
static int
has_record(const struct prekey_record *krec, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(krec[i].name, name) == 0)
			return 1;
	return 0;
}

/*
 * Forward secrecy by default: for each contact among the recipients
 * (names, nr) without a record given, runs e2e-keys claim (no libcurl
 * here) and adds the records it prints to krec (what[i] names each).
 * A refused proof is an error (65), never a quiet fallback; a server
 * out of reach or no session leaves RSA-OAEP-256, with a note (unless
 * require_fs, refused later). Returns 0 or an exit code (in rep).
 */
static int
claim_prekeys(char (*names)[NAME_LEN_MAX + 1], size_t nr,
    struct prekey_record *krec, const char **what, size_t *nk,
    int require_fs, struct report *rep)
{
	static char whats[JWE_MAX_RECIPIENTS][NAME_LEN_MAX + 32];
	struct buf out = BUF_INIT;
	const char *line, *end, *nl;
	size_t i;
	int st, rc = 0;

	for (i = 0; i < nr && rc == 0; i++) {
		if (names[i][0] == '\0' || has_record(krec, *nk, names[i]))
			continue;
		/* Asked once per contact, for all its keys. */
		if (i > 0 && strcmp(names[i - 1], names[i]) == 0)
			continue;
		buf_clear(&out);
		st = contact_claim(names[i], &out);
		if (st == E2E_EX_DATAERR || st == E2E_EX_PROTOCOL) {
			rc = report_error(rep, E2E_EX_DATAERR, "the prekeys "
			    "of %s are refused (above): nothing encrypted",
			    names[i]);
			break;
		}
		if (st != 0) {
			if (!require_fs)
				err_note("no prekey of %s could be claimed "
				    "(the server cannot be asked): "
				    "RSA-OAEP-256, not forward secret",
				    names[i]);
			continue;
		}
		line = (const char *)out.p;
		end = line + out.len;
		while (line != NULL && line < end && rc == 0) {
			if ((nl = memchr(line, '\n', (size_t)(end - line))) ==
			    NULL)
				nl = end;
			if (*nk == JWE_MAX_RECIPIENTS) {
				rc = report_error(rep, E2E_EX_USAGE, "at most "
				    "%d prekeys", JWE_MAX_RECIPIENTS);
				break;
			}
			if (nl > line && (rc = prekeys_record_read(line,
			    (size_t)(nl - line), &krec[*nk], rep)) == 0) {
				snprintf(whats[*nk], sizeof(whats[*nk]),
				    "the claim of %.*s", NAME_LEN_MAX,
				    names[i]);
				what[*nk] = whats[*nk];
				(*nk)++;
			}
			line = nl + 1;
		}
	}
	buf_free(&out);
	return rc;
}

int
main(int argc, char **argv)
{
	static const char shortopts[] = ":r:s:o:fhV";
	static const struct option longopts[] = {
		{ "recipient", required_argument, NULL, 'r' },
		{ "sign", required_argument, NULL, 's' },
		{ "enc", required_argument, NULL, 'E' },
		{ "format", required_argument, NULL, 'F' },
		{ "output", required_argument, NULL, 'o' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "max-size", required_argument, NULL, 'M' },
		{ "force", no_argument, NULL, 'f' },
		{ "no-sign", no_argument, NULL, 'N' },
		{ "from", required_argument, NULL, 'W' },
		{ "binary", no_argument, NULL, 'B' },
		{ "prekey", required_argument, NULL, 'K' },
		{ "no-fs", no_argument, NULL, 'n' },
		{ "require-fs", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *rpaths[JWE_MAX_RECIPIENTS], *signer = NULL, *out_path = NULL;
	const char *encname = NULL, *format = "jwe", *from = NULL;
	/* The recipients' names, one per key ("" for a key file). */
	static char rname[JWE_MAX_RECIPIENTS][NAME_LEN_MAX + 1];
	const char *rnames[JWE_MAX_RECIPIENTS];
	char me[NAME_LEN_MAX + 1];
	enum myname_source me_src = MYNAME_NONE;
	struct jwe_recipient r[JWE_MAX_RECIPIENTS];
	struct passphrase_src ps = { NULL, NULL };
	struct seal_opts so;
	struct input_view pt;
	struct infile in;
	struct source src;
	struct outfile out = OUTFILE_INIT;
	struct report rep = { 0 };
	struct sink sink;
	struct buf latin1 = BUF_SECRET_INIT;
	EVP_PKEY *sk = NULL;
	char skid[KID_SIZE];
	char identity[HOME_PATH_MAX];
	size_t nr = 0, nargs = 0, i, max = (size_t)FILEIO_STREAM_MAX;
	int c, rc, seen_s = 0, seen_E = 0, seen_F = 0, seen_o = 0;
	int seen_P = 0, seen_M = 0, seen_W = 0, force = 0, no_sign = 0;
	int file_recipient = 0, binary = 0, no_fs = 0, require_fs = 0;
	const char *kpaths[JWE_MAX_RECIPIENTS];
	static struct prekey_record krec[JWE_MAX_RECIPIENTS];
	size_t nk = 0;

	cli_start(argv[0]);
	/* The session file, read for my name (lib/keys/myname.h), holds a
	 * token: what jansson frees is wiped. Before any other jansson call. */
	jsonio_wipe_on_free();
	memset(r, 0, sizeof(r));
	memset(&pt, 0, sizeof(pt));
	memset(&in, 0, sizeof(in));
	in.fd = -1;
	if ((rc = cli_options(argc, argv, shortopts, longopts, &rep)) != 0)
		return err_print(&rep);
	while ((c = getopt_long(argc, argv, shortopts, longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'r':
			if (nargs == JWE_MAX_RECIPIENTS)
				return err_print(cli_usage_error(&rep,
				    "at most %d recipients",
				    JWE_MAX_RECIPIENTS));
			rpaths[nargs++] = optarg;
			break;
		case 's':
			if (cli_once(&seen_s, "-s", &rep) != 0)
				return err_print(&rep);
			signer = optarg;
			break;
		case 'E':
			if (cli_once(&seen_E, "--enc", &rep) != 0)
				return err_print(&rep);
			encname = optarg;
			break;
		case 'F':
			if (cli_once(&seen_F, "--format", &rep) != 0)
				return err_print(&rep);
			format = optarg;
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
			if (cli_max_size_stream(&seen_M, optarg, &max,
			    &rep) != 0)
				return err_print(&rep);
			break;
		case 'f':
			force = 1;
			break;
		case 'N':
			no_sign = 1;
			break;
		case 'W':
			if (cli_once(&seen_W, "--from", &rep) != 0)
				return err_print(&rep);
			from = optarg;
			break;
		case 'B':
			binary = 1;
			break;
		case 'K':
			if (nk == JWE_MAX_RECIPIENTS)
				return err_print(cli_usage_error(&rep,
				    "at most %d prekeys", JWE_MAX_RECIPIENTS));
			kpaths[nk++] = optarg;
			break;
		case 'n':
			no_fs = 1;
			break;
		case 'q':
			require_fs = 1;
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
	if (nargs == 0) {
		err_error("no recipient");
		err_hint("give a recipient's public key with -r PUBKEY");
		return E2E_EX_USAGE;
	}
	memset(&so, 0, sizeof(so));
	if (strcmp(format, "seed") == 0) {
		if (nargs != 1 || signer != NULL || encname != NULL)
			return err_print(cli_usage_error(&rep,
			    "--format seed takes exactly one "
			    "-r, and no -s or --enc"));
	} else if (strcmp(format, "jwe") != 0) {
		return err_print(cli_usage_error(&rep,
		    "--format must be jwe or seed"));
	} else if (binary) {
		return err_print(cli_usage_error(&rep,
		    "--binary is only used with --format "
		    "seed"));
	} else if ((so.enc = jwe_enc_by_name(encname ? encname :
	    "A256CBC-HS512")) == NULL) {
		return err_print(cli_usage_error(&rep,
		    "--enc must be A256CBC-HS512 or A256GCM"));
	}
	if (no_fs && require_fs)
		return err_print(cli_usage_error(&rep,
		    "--no-fs and --require-fs contradict each other"));
	if (so.enc == NULL && (nk > 0 || require_fs))
		return err_print(cli_usage_error(&rep,
		    "--format seed has no forward secrecy (--prekey, "
		    "--require-fs)"));
	if (no_fs)
		nk = 0;	/* the prekeys given are ignored */
	if (no_sign && signer != NULL)
		return err_print(cli_usage_error(&rep,
		    "-s and --no-sign contradict each other"));
	/* Signed by default with the identity of the client's config file
	 * (never in the seed format, which cannot carry a signature). */
	if (signer == NULL && !no_sign && so.enc != NULL) {
		rc = config_identity_path(identity, sizeof(identity), &rep);
		if (rc > 0)
			return err_print(&rep);
		if (rc == 0)
			signer = identity;
	}
	if (ps.file != NULL && signer == NULL)
		return err_print(cli_usage_error(&rep,
		    "--passphrase-file is only used with -s"));
	if (from != NULL && signer == NULL)
		return err_print(cli_usage_error(&rep,
		    "--from is only used to sign (with -s or "
		    "the identity of the config file)"));
	/* My name, signed with the key ids (FORMAT.md section 4); checked
	 * before anything is read or asked. */
	me[0] = '\0';
	if (signer != NULL) {
		rc = myname_find(from, "--from", me, &me_src, &rep);
		err_print(&rep);
		report_clear(&rep);
		if (rc != 0)
			return rc;
	}
	{
		static const char *names[2 * JWE_MAX_RECIPIENTS + 3];
		static const char *paths[2 * JWE_MAX_RECIPIENTS + 3];

		for (i = 0; i < nargs; i++) {
			names[i] = "-r";
			paths[i] = rpaths[i];
		}
		for (i = 0; i < nk; i++) {
			names[nargs + i] = "--prekey";
			paths[nargs + i] = kpaths[i];
		}
		names[nargs + nk] = "-s";
		paths[nargs + nk] = signer;
		names[nargs + nk + 1] = "--passphrase-file";
		paths[nargs + nk + 1] = ps.file;
		names[nargs + nk + 2] = "the message";
		paths[nargs + nk + 2] = argc == 1 ? argv[0] : "-";
		if (cli_one_stdin(names, paths, nargs + nk + 3, &rep) != 0)
			return err_print(&rep);
	}

	if ((rc = crypto_init(&rep)) != 0)
		return err_print(&rep);
	/* Each -r is a key file or a contact (who may have several keys,
	 * one per device). */
	if ((rc = contact_recipients(rpaths, nargs, r, rname,
	    JWE_MAX_RECIPIENTS, &nr, &rep)) != 0)
		goto out;
	for (i = 0; i < nr; i++) {
		rnames[i] = rname[i];
		file_recipient |= rname[i][0] == '\0';
	}
	/* Forward secrecy: the claimed prekeys replace RSA-OAEP-256 for
	 * their keys (FORMAT.md section 11). */
	for (i = 0; i < nk; i++) {
		struct buf kb = BUF_INIT;
		struct report why = { 0 };

		if ((rc = file_read(kpaths[i], 64 * 1024, "prekey record", &kb,
		    &rep)) != 0)
			goto out;
		rc = prekeys_record_read((const char *)kb.p, kb.len, &krec[i],
		    &why);
		buf_free(&kb);
		if (rc != 0) {
			report_error(&rep, rc, "%s is not a prekey record: %s",
			    kpaths[i], report_message(&why));
			goto out;
		}
	}
	/* Each contact's prekeys claimed from the server, unless given. */
	if (so.enc != NULL && !no_fs && (rc = claim_prekeys(rname, nr, krec,
	    kpaths, &nk, require_fs, &rep)) != 0)
		goto out;
	if ((rc = prekeys_apply(r, nr, rname, krec, nk, kpaths, &rep)) != 0)
		goto out;
	for (i = 0; require_fs && i < nr; i++)
		if (!r[i].fs) {
			rc = report_error(&rep, E2E_EX_UNAVAILABLE, "key %s "
			    "(%s) has no prekey, and --require-fs refuses to "
			    "send without forward secrecy", r[i].kid,
			    rname[i][0] ? rname[i] : "a key file");
			report_hint(&rep, "give its claimed prekey with "
			    "--prekey FILE, or leave out --require-fs");
			goto out;
		}
	if (so.enc == NULL && nr != 1) {
		cli_usage_error(&rep, "--format seed is for one key; %s has %zu",
		    rpaths[0], nr);
		rc = E2E_EX_USAGE;
		goto out;
	}
	if (signer != NULL &&
	    ((rc = keyfile_load_private(signer, &ps, &sk, &rep)) != 0 ||
	    (rc = jwk_thumbprint(sk, skid, &rep)) != 0))
		goto out;
	/* A warning about the key file comes before anything else. */
	err_print(&rep);
	report_clear(&rep);
	/* The seed format is made whole; a JWE is read in pieces. */
	if (so.enc == NULL && (rc = file_view(argc == 1 ? argv[0] : NULL,
	    seen_M ? max : SEED_MAX, "input", &pt, &rep)) != 0)
		goto out;
	if (so.enc != NULL && (rc = infile_open(&in, argc == 1 ? argv[0] :
	    NULL, max, "input", &rep)) != 0)
		goto out;
	if ((rc = outfile_open(&out, out_path, 0644, 1, &rep)) != 0)
		goto out;
	sink = sink_outfile(&out, &rep);
	if (so.enc == NULL) {
		/* The original client's text is Latin-1. */
		if (!binary && (rc = seed_text_from_utf8(pt.p, pt.len,
		    &latin1, &rep)) != 0)
			goto out;
		err_warn("the seed format authenticates neither its IV nor its "
		    "sender; use it only to talk to the original client");
		rc = seed_encrypt(r[0].pub, binary ? pt.p : latin1.p,
		    binary ? pt.len : latin1.len, &sink, &rep);
	} else {
		so.r = r;
		so.nr = nr;
		so.signer = sk;
		so.signer_kid = skid;
		if (sk != NULL && me_src != MYNAME_NONE) {
			so.sender_name = me;
			so.recipient_names = rnames;
			if (file_recipient)
				err_note("a recipient given as a key file has no "
				    "name to sign: its reader will not see the "
				    "message verified (give a contact's name with "
				    "-r NAME)");
		} else if (sk != NULL) {
			err_note("signing without your name, which is unknown: "
			    "sign in, set name = NAME in the config file, or give "
			    "--from NAME");
		}
		src = infile_source(&in);
		rc = message_seal_source(&so, &src, &sink, &rep);
	}
	if (rc == 0)
		rc = outfile_commit(&out, force ? -1 : 0, &rep);
out:
	err_print(&rep);
	outfile_abort(&out);
	for (i = 0; i < nr; i++)
		EVP_PKEY_free(r[i].pub);
	EVP_PKEY_free(sk);
	file_view_free(&pt);
	infile_close(&in);
	buf_free(&latin1);
	return rc;
}
