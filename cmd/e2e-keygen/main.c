/*
 * e2e-keygen - generate an RSA key pair for e2e-chat, or print the public
 * key of a private key.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cli.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/passphrase.h"
#include "format/crypto.h"
#include "format/jwk.h"
#include "format/keyfile.h"
#include "format/rsa.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: e2e-keygen [-p] [--passphrase-file FILE] [-b BITS] [-f] "
	    "[-o FILE]\n"
	    "       e2e-keygen -y [--passphrase-file FILE] [FILE]\n"
	    "\n"
	    "Generates an RSA key pair (2048 bits, e = 65537). With -o, the "
	    "private key\n"
	    "goes to FILE (PKCS#8 PEM, mode 0600) and the public key to "
	    "FILE.pub;\n"
	    "without, the private key goes to standard output. The key id "
	    "(RFC 7638\n"
	    "thumbprint) is printed on standard error.\n"
	    "\n"
	    "  -o, --output FILE        write the key pair to FILE and "
	    "FILE.pub\n"
	    "  -b, --bits BITS          2048 (default), 3072 or 4096\n"
	    "  -p, --protect            encrypt the private key with a "
	    "passphrase\n"
	    "      --passphrase-file FILE\n"
	    "                           read the passphrase from FILE (else "
	    "E2E_PASSPHRASE,\n"
	    "                           else the terminal)\n"
	    "  -f, --force              overwrite FILE and FILE.pub\n"
	    "  -y, --public             print the public key of the private "
	    "key in FILE\n"
	    "                           (or standard input)\n"
	    "  -h, --help               show this help\n"
	    "  -V, --version            show the version\n"
	    "\n%s\n"
	    "Examples:\n"
	    "  e2e-keygen -o ~/.config/e2e/me.key\n"
	    "  e2e-keygen -y ~/.config/e2e/me.key > me.pub\n",
	    err_exit_codes_help);
}

static int
print_kid(EVP_PKEY *k, struct report *rep)
{
	char kid[KID_SIZE];
	int rc;

	if ((rc = jwk_thumbprint(k, kid, rep)) == 0)
		err_note("key id: %s", kid);
	return rc;
}

static int
show_public(const char *path, const struct passphrase_src *ps)
{
	struct buf pem = BUF_INIT;
	struct outfile out = OUTFILE_INIT;
	struct report rep = { 0 };
	EVP_PKEY *k = NULL;
	int rc;

	if ((rc = keyfile_load_private(path, ps, &k, &rep)) != 0)
		goto out;
	/* A warning about the key file comes before the key. */
	err_print(&rep);
	report_clear(&rep);
	if ((rc = keyfile_public_pem(k, &pem, &rep)) != 0 ||
	    (rc = outfile_open(&out, NULL, 0, 0, &rep)) != 0 ||
	    (rc = outfile_write(&out, pem.p, pem.len, &rep)) != 0 ||
	    (rc = outfile_commit(&out, 0, &rep)) != 0)
		goto out;
	rc = print_kid(k, &rep);
out:
	err_print(&rep);
	outfile_abort(&out);
	EVP_PKEY_free(k);
	buf_free(&pem);
	return rc;
}

static int
generate(const char *path, unsigned bits, int protect,
    const struct passphrase_src *ps, int force)
{
	char pass[PASSPHRASE_MAX], pub_path[4096];
	struct report rep = { 0 };
	EVP_PKEY *k = NULL;
	int rc;

	pass[0] = '\0';
	/* Refuse before the slow parts (prompt, generation), then again
	 * atomically when writing. */
	if (!file_is_std(path) &&
	    ((rc = file_check_new(path, force, &rep)) != 0 ||
	    (rc = keyfile_pub_path(path, pub_path, sizeof(pub_path),
	    &rep)) != 0 ||
	    (rc = file_check_new(pub_path, force, &rep)) != 0))
		goto out;
	if (protect && (rc = passphrase_get(ps, 1, pass, &rep)) != 0)
		goto out;
	/* A warning about the passphrase file comes first. */
	err_print(&rep);
	report_clear(&rep);
	if ((rc = rsa_generate(bits, &k, &rep)) != 0)
		goto out;
	if ((rc = keyfile_write_pair(path, k, protect ? pass : NULL,
	    force, &rep)) != 0)
		goto out;
	rc = print_kid(k, &rep);
out:
	err_print(&rep);
	wipe(pass, sizeof(pass));
	EVP_PKEY_free(k);
	return rc;
}

int
main(int argc, char **argv)
{
	static const char shortopts[] = ":o:b:pfyhV";
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "bits", required_argument, NULL, 'b' },
		{ "protect", no_argument, NULL, 'p' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "force", no_argument, NULL, 'f' },
		{ "public", no_argument, NULL, 'y' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct passphrase_src ps = { NULL, NULL };
	struct report rep = { 0 };
	const char *output = NULL;
	unsigned bits = 2048;
	int c, protect = 0, force = 0, show_pub = 0, rc;
	int seen_o = 0, seen_b = 0, seen_P = 0;

	cli_start(argv[0]);
	if ((rc = cli_options(argc, argv, shortopts, longopts, &rep)) != 0)
		return err_print(&rep);
	while ((c = getopt_long(argc, argv, shortopts, longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'o':
			if (cli_once(&seen_o, "-o", &rep) != 0)
				return err_print(&rep);
			output = optarg;
			break;
		case 'b':
			if (cli_once(&seen_b, "--bits", &rep) != 0)
				return err_print(&rep);
			if (strcmp(optarg, "2048") == 0)
				bits = 2048;
			else if (strcmp(optarg, "3072") == 0)
				bits = 3072;
			else if (strcmp(optarg, "4096") == 0)
				bits = 4096;
			else
				return err_print(cli_usage_error(&rep,
				    "--bits must be 2048, "
				    "3072 or 4096 (fewer than 2048 bits are "
				    "not safe)"));
			break;
		case 'p':
			protect = 1;
			break;
		case 'P':
			if (cli_once(&seen_P, "--passphrase-file", &rep) != 0)
				return err_print(&rep);
			ps.file = optarg;
			break;
		case 'f':
			force = 1;
			break;
		case 'y':
			show_pub = 1;
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

	if (show_pub) {
		if (output != NULL || protect || seen_b || force)
			return err_print(cli_usage_error(&rep,
			    "-y cannot be used with -o, -p, "
			    "--bits or --force"));
		if (argc > 1)
			return err_print(cli_usage_error(&rep,
			    "-y takes at most one FILE"));
		{
			const char *names[] = { "--passphrase-file",
				"the key" };
			const char *paths[] = { ps.file,
				argc == 1 ? argv[0] : "-" };

			if (cli_one_stdin(names, paths, 2, &rep) != 0)
				return err_print(&rep);
		}
	} else {
		if (argc > 0)
			return err_print(cli_usage_error(&rep,
			    "unexpected argument %s; to "
			    "name the key file, use -o FILE", argv[0]));
		if (ps.file != NULL && !protect)
			return err_print(cli_usage_error(&rep,
			    "--passphrase-file is only used "
			    "with -p or -y"));
	}
	if ((rc = crypto_init(&rep)) != 0)
		return err_print(&rep);
	if (show_pub)
		return show_public(argc == 1 ? argv[0] : NULL, &ps);
	return generate(output, bits, protect, &ps, force);
}
