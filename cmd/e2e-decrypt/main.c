/*
 * e2e-decrypt - check and decrypt a message made by e2e-encrypt (or by
 * the original E2E Chat client).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "crypto.h"
#include "err.h"
#include "fileio.h"
#include "jwk.h"
#include "keyfile.h"
#include "message.h"
#include "term.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: e2e-decrypt -i PRIVKEY [--verify PUBKEY] [-o OUT] "
	    "[FILE]\n"
	    "\n"
	    "Reads one envelope (a JWE from e2e-encrypt, or the original "
	    "seed format)\n"
	    "from FILE or standard input, checks it and writes the plaintext "
	    "to OUT or\n"
	    "standard output. Nothing is written unless every check passed.\n"
	    "\n"
	    "  -i, --identity PRIVKEY   your private key file\n"
	    "      --verify PUBKEY      require a valid signature by this "
	    "public key\n"
	    "  -o, --output OUT         write the plaintext to OUT (mode "
	    "0600)\n"
	    "  -f, --force              overwrite OUT even if it holds a private "
	    "key\n"
	    "      --passphrase-file FILE\n"
	    "                           passphrase of a protected PRIVKEY "
	    "(else\n"
	    "                           E2E_PASSPHRASE, else the terminal)\n"
	    "      --max-size SIZE      refuse a larger envelope (default "
	    "256M, at most 1G)\n"
	    "  -h, --help               show this help\n"
	    "  -V, --version            show the version\n"
	    "\n"
	    "Example:\n"
	    "  e2e-decrypt -i me.key --verify alice.pub < msg.jwe\n"
	    "\n%s", err_exit_codes_help);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "identity", required_argument, NULL, 'i' },
		{ "verify", required_argument, NULL, 'v' },
		{ "output", required_argument, NULL, 'o' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "max-size", required_argument, NULL, 'M' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *key_path = NULL, *verify_path = NULL, *out_path = NULL;
	struct passphrase_src ps = { NULL, NULL };
	struct open_opts oo;
	struct message m;
	struct buf in = BUF_INIT;
	struct outfile out = OUTFILE_INIT;
	EVP_PKEY *key = NULL, *vkey = NULL;
	char kid[KID_SIZE], vkid[KID_SIZE];
	size_t max = FILEIO_DEFAULT_MAX;
	int c, rc, seen_i = 0, seen_v = 0, seen_o = 0, seen_P = 0, seen_M = 0;
	int force = 0;

	cli_start(argv[0]);
	memset(&m, 0, sizeof(m));
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:o:fhV", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'i':
			if (cli_once(&seen_i, "-i") != 0)
				return E2E_EX_USAGE;
			key_path = optarg;
			break;
		case 'v':
			if (cli_once(&seen_v, "--verify") != 0)
				return E2E_EX_USAGE;
			verify_path = optarg;
			break;
		case 'o':
			if (cli_once(&seen_o, "-o") != 0)
				return E2E_EX_USAGE;
			out_path = optarg;
			break;
		case 'P':
			if (cli_once(&seen_P, "--passphrase-file") != 0)
				return E2E_EX_USAGE;
			ps.file = optarg;
			break;
		case 'M':
			if (cli_once(&seen_M, "--max-size") != 0 ||
			    cli_parse_size("--max-size", optarg, &max) != 0)
				return E2E_EX_USAGE;
			if (max > FILEIO_MAX_MAX)
				return cli_usage_error("--max-size is at most 1G");
			break;
		case 'f':
			force = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			cli_version();
			return 0;
		default:
			return cli_bad_option(c, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		return cli_usage_error("more than one input FILE");
	if (key_path == NULL) {
		err_error("no private key");
		err_hint("give your private key with -i PRIVKEY");
		return E2E_EX_USAGE;
	}
	{
		const char *names[] = { "-i", "--verify", "--passphrase-file",
			"the message" };
		const char *paths[] = { key_path, verify_path, ps.file,
			argc == 1 ? argv[0] : "-" };

		if (cli_one_stdin(names, paths, 4) != 0)
			return E2E_EX_USAGE;
	}

	if ((rc = crypto_init()) != 0)
		return rc;
	if ((rc = keyfile_load_private(key_path, &ps, &key)) != 0 ||
	    (rc = jwk_thumbprint(key, kid)) != 0)
		goto out;
	if (verify_path != NULL &&
	    ((rc = keyfile_load_public(verify_path, &vkey)) != 0 ||
	    (rc = jwk_thumbprint(vkey, vkid)) != 0))
		goto out;
	if ((rc = file_read(argc == 1 ? argv[0] : NULL, max, "input",
	    &in)) != 0)
		goto out;
	oo.key = key;
	oo.kid = kid;
	oo.verify = vkey;
	oo.verify_kid = vkey ? vkid : NULL;
	if ((rc = message_open(&oo, &in, &m)) != 0) {
		if (m.error[0] != '\0')
			err_error("%s", m.error);
		if (m.hint[0] != '\0')
			err_hint("%s", m.hint);
		goto out;
	}
	if ((rc = outfile_open(&out, out_path, 0600, 1)) != 0)
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
	if ((rc = outfile_write(&out, m.pt, m.pt_len)) != 0 ||
	    (rc = outfile_commit(&out, force ? -1 : 0)) != 0)
		goto out;
	message_report(&m);
out:
	outfile_abort(&out);
	message_free(&m);
	EVP_PKEY_free(key);
	EVP_PKEY_free(vkey);
	buf_free(&in);
	return rc;
}
