/*
 * e2e-keygen - generate an RSA key pair for e2e-chat, or print the public
 * key of a private key.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cli.h"
#include "base/config.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/home.h"
#include "base/jsonio.h"
#include "base/passphrase.h"
#include "format/crypto.h"
#include "format/jwk.h"
#include "format/keyfile.h"
#include "format/rsa.h"
#include "keys/myname.h"
#include "keys/prekeys.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: e2e-keygen [-p] [--passphrase-file FILE] [-b BITS] [-f] "
	    "[-o FILE]\n"
	    "       e2e-keygen -y [--passphrase-file FILE] [FILE]\n"
	    "       e2e-keygen --prekeys N|signed [-i PRIVKEY] [--name NAME]\n"
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
	    "      --prekeys N|signed   make N one-time X25519 prekeys (1 to "
	    "%d), or a\n"
	    "                           new signed prekey, for the identity "
	    "key, into\n"
	    "                           HOME/prekeys.json, and print each "
	    "one's public\n"
	    "                           record (e2e-encrypt --prekey reads "
	    "one)\n"
	    "  -i, --identity PRIVKEY   with --prekeys: the identity key "
	    "(default: the\n"
	    "                           identity of the client's config "
	    "file)\n"
	    "      --name NAME          with --prekeys: the name in the "
	    "records (default:\n"
	    "                           the session's or the config file's)\n"
	    "  -h, --help               show this help\n"
	    "  -V, --version            show the version\n"
	    "\n%s\n"
	    "Examples:\n"
	    "  e2e-keygen -o ~/.config/e2e/me.key\n"
	    "  e2e-keygen -y ~/.config/e2e/me.key > me.pub\n",
	    PREKEYS_BATCH_MAX, err_exit_codes_help);
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

/*
 * Makes prekeys for the identity key at key_path into the home's store
 * and prints their public records, one JSON line each (the form
 * e2e-encrypt --prekey reads): what the net side will publish, and what
 * the tests use without a server.
 */
static int
make_prekeys(const char *key_path, const struct passphrase_src *ps,
    const char *name_opt, enum jwe_fs kind, size_t n)
{
	static struct prekey_public pub[PREKEYS_BATCH_MAX];
	char home[HOME_PATH_MAX], ikid[KID_SIZE], name[NAME_LEN_MAX + 1];
	enum myname_source src = MYNAME_NONE;
	struct report rep = { 0 };
	struct prekeys *p = NULL;
	struct outfile out = OUTFILE_INIT;
	EVP_PKEY *k = NULL;
	json_t *rec;
	char *line;
	size_t i;
	int rc;

	if ((rc = myname_find(name_opt, "--name", name, &src, &rep)) != 0)
		goto out;
	if (src == MYNAME_NONE) {
		cli_usage_error(&rep, "the records need your name: sign in, "
		    "set name = NAME in the config file, or give --name NAME");
		rc = E2E_EX_USAGE;
		goto out;
	}
	if ((rc = keyfile_load_private(key_path, ps, &k, &rep)) != 0 ||
	    (rc = jwk_thumbprint(k, ikid, &rep)) != 0 ||
	    (rc = home_find(home, sizeof(home), &rep)) != 0 ||
	    (rc = prekeys_open(home, 1, &p, &rep)) != 0 ||
	    (rc = prekeys_generate(p, ikid, kind, n, crypto_now(), pub,
	    &rep)) != 0 || (rc = prekeys_save(p, &rep)) != 0 ||
	    (rc = outfile_open(&out, NULL, 0, 0, &rep)) != 0)
		goto out;
	for (i = 0; i < (kind == JWE_FS_SIGNED ? 1 : n); i++) {
		rec = prekeys_record_json(name, &pub[i]);
		line = rec != NULL ? jsonio_dump(rec) : NULL;
		json_decref(rec);
		if (line == NULL) {
			rc = report_oom(&rep);
			goto out;
		}
		rc = outfile_puts(&out, line, &rep);
		if (rc == 0)
			rc = outfile_puts(&out, "\n", &rep);
		free(line);
		if (rc != 0)
			goto out;
	}
	if ((rc = outfile_commit(&out, 0, &rep)) == 0)
		err_note("%zu %s prekey%s for key %s in %s/prekeys.json",
		    kind == JWE_FS_SIGNED ? (size_t)1 : n,
		    prekeys_kind_name(kind), n > 1 ? "s" : "", ikid, home);
out:
	err_print(&rep);
	outfile_abort(&out);
	prekeys_close(p);
	EVP_PKEY_free(k);
	return rc;
}

int
main(int argc, char **argv)
{
	static const char shortopts[] = ":o:b:pfyi:hV";
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "bits", required_argument, NULL, 'b' },
		{ "protect", no_argument, NULL, 'p' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "force", no_argument, NULL, 'f' },
		{ "public", no_argument, NULL, 'y' },
		{ "prekeys", required_argument, NULL, 'K' },
		{ "identity", required_argument, NULL, 'i' },
		{ "name", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct passphrase_src ps = { NULL, NULL };
	struct report rep = { 0 };
	const char *output = NULL, *prekeys = NULL, *identity = NULL;
	const char *name = NULL;
	char idpath[HOME_PATH_MAX];
	unsigned long long nprekeys = 0;
	unsigned bits = 2048;
	int c, protect = 0, force = 0, show_pub = 0, rc;
	int seen_o = 0, seen_b = 0, seen_P = 0, seen_K = 0, seen_i = 0;
	int seen_n = 0;

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
		case 'K':
			if (cli_once(&seen_K, "--prekeys", &rep) != 0)
				return err_print(&rep);
			prekeys = optarg;
			break;
		case 'i':
			if (cli_once(&seen_i, "-i", &rep) != 0)
				return err_print(&rep);
			identity = optarg;
			break;
		case 'n':
			if (cli_once(&seen_n, "--name", &rep) != 0)
				return err_print(&rep);
			name = optarg;
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

	if (prekeys != NULL) {
		if (show_pub || output != NULL || protect || seen_b ||
		    force || argc > 0)
			return err_print(cli_usage_error(&rep,
			    "--prekeys takes no -y, -o, -p, --bits, --force "
			    "or FILE"));
		if (strcmp(prekeys, "signed") != 0 &&
		    cli_parse_number("--prekeys", prekeys, 1,
		    PREKEYS_BATCH_MAX, &nprekeys, &rep) != 0) {
			report_clear(&rep);
			return err_print(cli_usage_error(&rep, "--prekeys "
			    "takes a number from 1 to %d, or signed",
			    PREKEYS_BATCH_MAX));
		}
		if (identity == NULL) {
			rc = config_identity_path(idpath, sizeof(idpath),
			    &rep);
			if (rc > 0)
				return err_print(&rep);
			if (rc < 0)
				return err_print(cli_usage_error(&rep,
				    "--prekeys needs the identity key: -i "
				    "PRIVKEY, or identity = PATH in the "
				    "config file"));
			identity = idpath;
		}
		/* The store holds private keys: jansson's copies are
		 * wiped when freed. */
		jsonio_wipe_on_free();
		if ((rc = crypto_init(&rep)) != 0)
			return err_print(&rep);
		return make_prekeys(identity, &ps, name, nprekeys == 0 ?
		    JWE_FS_SIGNED : JWE_FS_ONE_TIME, nprekeys == 0 ? 1 :
		    (size_t)nprekeys);
	}
	if (identity != NULL || name != NULL)
		return err_print(cli_usage_error(&rep,
		    "-i and --name are only used with --prekeys"));

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
